"""The HTTP and WebSocket interface: the FastAPI app factory and one router per
resource. Routes are thin: validate, call a service, shape the answer."""
