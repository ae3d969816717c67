export default { viewer: '访客', runner: '执行者', editor: '编辑者', owner: '负责人' }
