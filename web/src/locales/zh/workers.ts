export default {
  nav: '执行节点',
  title: '执行节点',
  liveCount: '{n} 个在线',
  empty: '最近一天没有执行节点上报',
  live: '在线',
  offline: '离线',
  idle: '空闲',
  shard: '运行 #{run} · 分片 {shard}',
  pidVersion: '进程 {pid} · testyard {version}',
  col: {
    name: '名称',
    host: '主机',
    slots: '并发槽位',
    state: '状态',
    shard: '正在运行',
    heartbeat: '最近心跳',
    started: '启动时间',
  },
  local: {
    title: '运行在本服务器上执行',
    body: '本服务器自行执行所有测试（本地执行器）。要把运行分散到多台机器：以 Celery 执行器和 Redis 消息代理启动服务器，再在每台能访问数据库和 Redis 的机器上启动一个执行节点：',
  },
  noneLive: {
    title: '没有在线的执行节点',
    body: '运行会一直等待，直到有执行节点上报：在能访问数据库和 Redis 的机器上执行 `testyard worker` 启动一个。',
  },
}
