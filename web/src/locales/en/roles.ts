export default { viewer: 'viewer', runner: 'runner', editor: 'editor', owner: 'owner' }
