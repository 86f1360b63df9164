// A Jest reporter that says where each spec file's time went, for a run with
// --runInBand (the files then run in this process):
//   npm test -- --reporters default ./test/support/file-timings.cjs
// It writes one JSON line per file to $FILE_TIMINGS (default
// file-timings.jsonl in the current folder): wall ms; cpu, this process's CPU
// ms (all threads); and, on Linux, from the main thread's schedstat: run (ms
// on a core), runq (ms it was ready but other processes had the cores: noise
// from a busy machine) and waited (the rest: timers, sockets, child
// processes, the database). A file with a large `waited` waits on a clock.
const { appendFileSync, readFileSync } = require('node:fs');

function mainThread() {
  try {
    const [run, runq] = readFileSync(
      `/proc/self/task/${process.pid}/schedstat`,
      'utf8',
    )
      .split(' ')
      .map(Number);
    return { run: run / 1e6, runq: runq / 1e6 };
  } catch {
    return undefined; // not Linux
  }
}

class FileTimings {
  constructor() {
    this.out = process.env.FILE_TIMINGS || 'file-timings.jsonl';
    this.started = new Map();
  }

  onTestFileStart(test) {
    this.started.set(test.path, {
      wall: performance.now(),
      cpu: process.cpuUsage(),
      thread: mainThread(),
    });
  }

  onTestFileResult(test, result) {
    const start = this.started.get(test.path);
    if (!start) return;
    const wall = performance.now() - start.wall;
    const cpu = process.cpuUsage(start.cpu);
    const line = {
      file: test.path.replace(`${process.cwd()}/`, ''),
      wall: Math.round(wall),
      cpu: Math.round((cpu.user + cpu.system) / 1000),
      tests: result.numPassingTests + result.numFailingTests,
      failed: result.numFailingTests,
    };
    const now = mainThread();
    if (start.thread && now) {
      line.run = Math.round(now.run - start.thread.run);
      line.runq = Math.round(now.runq - start.thread.runq);
      line.waited = Math.round(wall - line.run - line.runq);
    }
    appendFileSync(this.out, `${JSON.stringify(line)}\n`);
  }
}

module.exports = FileTimings;
