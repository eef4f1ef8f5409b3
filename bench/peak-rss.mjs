import { readFileSync } from 'node:fs';

// Peak RSS of a child process: the kernel's high-water mark (VmHWM in /proc/<pid>/status), sampled
// every 100 ms so the figure survives the process. peakMb() takes a last sample; it is 0 off Linux.
export function watchRss(child) {
  let peakKb = 0;
  const sample = () => {
    try {
      peakKb = Math.max(peakKb, Number(readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+)/m)[1]));
    } catch {}
  };
  const timer = setInterval(sample, 100);
  child.once('exit', () => clearInterval(timer));
  return { peakMb: () => (sample(), Math.round(peakKb / 1024)), stop: () => clearInterval(timer) };
}
