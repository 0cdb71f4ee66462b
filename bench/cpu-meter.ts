// CPU time spent by this Node process and by every PostgreSQL server process on the machine, so
// a workload can say which side a figure is bound by (2 cores are shared by both). Server time is
// read from /proc (Linux); elsewhere it is NaN and the bench still runs.
import { readdirSync, readFileSync } from 'node:fs';

// USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every Linux build in practice.
const ticksPerSecond = 100;

export interface CpuSample {
  nodeMs: number;
  postgresMs: number;
}

export function sampleCpu(): CpuSample {
  const own = process.cpuUsage();
  return { nodeMs: (own.user + own.system) / 1000, postgresMs: postgresCpuMs() };
}

function postgresCpuMs(): number {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return NaN;
  }
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after "(comm)": comm may hold spaces, so split after its closing parenthesis.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    if (comm !== 'postgres') continue;
    const fields = stat.slice(close + 2).split(' ');
    // fields[11] is utime and fields[12] stime (fields 14 and 15 of proc(5), counted from 1).
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks / ticksPerSecond) * 1000;
}
