// How a run's shards (its parts on workers) show: a tag colour per shard status.

/** Element Plus tag type of a shard status: pending, queued, running or done. */
export function shardStatusType(status: string): 'success' | 'warning' | 'info' | 'primary' {
  switch (status) {
    case 'running':
      return 'primary'
    case 'done':
      return 'success'
    case 'queued':
      return 'warning'
    default:
      return 'info'
  }
}

/** Shards delivered more than once: their first worker stopped mid-shard. */
export function ranAgain(shards: { deliveries: number }[]): number {
  return shards.filter((shard) => shard.deliveries > 1).length
}
