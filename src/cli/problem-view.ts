// How a located problem (validation error) is printed for humans: `file:line:col  path  message`.
import type { Problem } from '../domain/problem.js';
import type { Style } from './output.js';

export function formatProblem(p: Problem, style: Style): string {
  const where = style.bold(`${p.file}:${p.line}:${p.column}`);
  const field = p.path ? `${style.cyan(p.path)}: ` : '';
  const hint = p.hint ? `\n    ${style.dim(`hint: ${p.hint}`)}` : '';
  return `${where} ${field}${p.message}${hint}\n`;
}
