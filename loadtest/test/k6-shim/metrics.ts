// k6/metrics under Node: counters keep their sum.
export class Counter {
  value = 0;
  constructor(readonly name: string) {}
  add(n: number): void {
    this.value += n;
  }
}
export default { Counter };
