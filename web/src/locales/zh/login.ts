export default {
  username: '用户名',
  password: '密码',
  submit: '登录',
  wrong: '用户名或密码错误',
}
