export default {
  title: '项目',
  new: '新建项目',
  edit: '编辑项目',
  import: '导入项目',
  role: '我的角色',
  confirmDelete: '删除项目“{name}”及其全部用例、计划和运行记录？',
  allure: '记录 Allure 结果',
  allureHint: "运行时同时记录 Allure 结果（allure-pytest），以 allure.zip 保存在每次运行的产物中，可直接用于 allure generate。",
}
