type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** The error a promise rejects with, checked to be an instance of `type`; fails if it resolves. */
export async function rejectionOf<E extends Error>(promise: Promise<unknown>, type: ErrorClass<E>): Promise<E> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a rejection with ${type.name}, but the promise resolved`);
}

/** The same for synchronous code: the error `run` throws, checked to be an instance of `type`. */
export function thrownBy<E extends Error>(run: () => unknown, type: ErrorClass<E>): E {
  try {
    run();
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected ${type.name} to be thrown, but nothing was`);
}
