// Runs an async check a moment after the last input, and keeps only the answer to the
// latest input (an older answer that arrives late is dropped).

export interface Debounced<A> {
  (arg: A): void
  /** Forget the pending call and any answer still on its way. */
  cancel(): void
}

export function latestAfterPause<A, R>(
  run: (arg: A) => Promise<R>,
  delay: number,
  onAnswer: (answer: R, arg: A) => void,
  onError: (error: unknown, arg: A) => void,
): Debounced<A> {
  let timer: ReturnType<typeof setTimeout> | undefined
  let generation = 0
  const call = (arg: A) => {
    clearTimeout(timer)
    const mine = ++generation
    timer = setTimeout(() => {
      run(arg).then(
        (answer) => mine === generation && onAnswer(answer, arg),
        (error: unknown) => mine === generation && onError(error, arg),
      )
    }, delay)
  }
  call.cancel = () => {
    clearTimeout(timer)
    generation++
  }
  return call
}
