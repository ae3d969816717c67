export default {
  username: 'Username',
  password: 'Password',
  submit: 'Sign in',
  wrong: 'Wrong username or password',
}
