export default {
  title: 'Projects',
  new: 'New project',
  edit: 'Edit project',
  import: 'Import project',
  role: 'Your role',
  confirmDelete: 'Delete project "{name}" with all its cases, plans and runs?',
  allure: 'Record Allure results',
  allureHint: "Runs also record Allure results (allure-pytest), kept as allure.zip among each run's artifacts, ready for allure generate.",
}
