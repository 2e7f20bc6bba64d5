// k6/execution under Node: the test sets the iteration number before each call of the default function.
export const scenario = { iterationInTest: 0 };
export default { scenario };
