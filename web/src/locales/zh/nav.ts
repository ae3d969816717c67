export default {
  projects: '项目',
  cases: '用例',
  fixtures: '夹具',
  plans: '测试计划',
  runs: '运行记录',
  environments: '环境',
  members: '成员',
  exchange: '导出与导入',
  users: '用户',
  account: '我的账户',
  logout: '退出登录',
  chooseProject: '选择项目',
}
