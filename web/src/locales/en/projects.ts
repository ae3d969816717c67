export default {
  title: 'Projects',
  new: 'New project',
  edit: 'Edit project',
  import: 'Import project',
  role: 'Your role',
  confirmDelete: 'Delete project "{name}" with all its cases, plans and runs?',
}
