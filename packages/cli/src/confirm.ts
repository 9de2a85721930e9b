import { createInterface } from 'node:readline';

/** Asks a yes/no question on the terminal (on stderr, so stdout stays clean). Only "y" or "yes" is a yes. */
export function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise(resolve => {
    rl.once('close', () => resolve(false)); // Ctrl-D or Ctrl-C: no
    rl.question(question, answer => {
      resolve(/^(y|yes)$/i.test(answer.trim()));
      rl.close();
    });
  });
}
