export default {
  nav: 'Workers',
  title: 'Workers',
  liveCount: '{n} live',
  empty: 'No worker has reported in the last day',
  live: 'live',
  offline: 'offline',
  idle: 'idle',
  shard: 'run #{run} · shard {shard}',
  pidVersion: 'pid {pid} · testyard {version}',
  col: {
    name: 'Name',
    host: 'Host',
    slots: 'Slots',
    state: 'State',
    shard: 'Running now',
    heartbeat: 'Last heartbeat',
    started: 'Started at',
  },
  local: {
    title: 'Runs execute on this server',
    body: 'This server runs every test itself (the local executor). To spread runs over several machines, start the server with the Celery executor and a Redis broker, then start a worker on each machine that reaches the database and Redis:',
  },
  noneLive: {
    title: 'No live worker',
    body: 'Runs wait until a worker reports: start one with `testyard worker` on a machine that reaches the database and Redis.',
  },
}
