// `maas completion bash|zsh|fish`: shell completion generated from the command tree itself.
import type { Command } from '@commander-js/extra-typings';
import type { Program, Run } from '../program.js';
import { MaasError } from '../../core/errors.js';

interface Node {
  path: string[];
  subcommands: string[];
  options: string[];
}

function walk(cmd: Command<unknown[], Record<string, unknown>, Record<string, unknown>>, path: string[], out: Node[]): void {
  out.push({
    path,
    subcommands: cmd.commands.map((c) => c.name()),
    options: cmd.options.flatMap((o) => [o.short, o.long].filter((x): x is string => Boolean(x))),
  });
  for (const c of cmd.commands) walk(c, [...path, c.name()], out);
}

function bash(nodes: Node[]): string {
  const cases = nodes.map((n) => `    "${n.path.join(' ')}") words="${[...n.subcommands, ...n.options].join(' ')}" ;;`).join('\n');
  return `# maas bash completion: source <(maas completion bash)
_maas() {
  local cur path w i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    if [[ -z "$path" ]]; then candidate="$w"; else candidate="$path $w"; fi
    case "$candidate" in
${nodes
  .map((n) => `      "${n.path.join(' ')}") path="$candidate" ;;`)
  .filter((l) => !l.includes('"")'))
  .join('\n')}
    esac
  done
  local words=""
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _maas maas
`;
}

function zsh(nodes: Node[]): string {
  return `#compdef maas
# maas zsh completion: source <(maas completion zsh)
${bash(nodes).replace('complete -F _maas maas', 'autoload -U +X bashcompinit && bashcompinit\ncomplete -F _maas maas')}`;
}

function fish(nodes: Node[]): string {
  const lines = ['# maas fish completion: maas completion fish | source', 'complete -c maas -f'];
  for (const n of nodes) {
    const cond = n.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${n.path[n.path.length - 1]}`;
    for (const s of n.subcommands) lines.push(`complete -c maas -n '${cond}' -a '${s}'`);
    for (const o of n.options.filter((x) => x.startsWith('--'))) lines.push(`complete -c maas -n '${cond}' -l '${o.slice(2)}'`);
  }
  return `${lines.join('\n')}\n`;
}

export function define(program: Program, run: Run): void {
  program
    .command('completion')
    .argument('<shell>')
    .description('print a shell completion script (bash, zsh, fish)')
    .action(
      run(async (_ctx, shell) => {
        const nodes: Node[] = [];
        walk(program, [], nodes);
        const gen = { bash, zsh, fish }[shell];
        if (!gen) throw new MaasError('USAGE', `unknown shell "${shell}"`, { hint: 'use bash, zsh or fish' });
        const script = gen(nodes);
        return { data: { shell, script }, text: () => script };
      }),
    );
}
