export default {
  title: '项目',
  new: '新建项目',
  edit: '编辑项目',
  import: '导入项目',
  role: '我的角色',
  confirmDelete: '删除项目“{name}”及其全部用例、计划和运行记录？',
}
