export default {
  projects: 'Projects',
  cases: 'Cases',
  fixtures: 'Fixtures',
  plans: 'Plans',
  runs: 'Runs',
  environments: 'Environments',
  members: 'Members',
  exchange: 'Export & import',
  users: 'Users',
  account: 'My account',
  logout: 'Sign out',
  chooseProject: 'Choose a project',
}
