// `maas completion bash|zsh|fish`: small scripts that ask `maas __complete` for the candidates on
// each TAB, so completion follows the command tree and the registry without regenerating them.
import { Argument } from '@commander-js/extra-typings';
import type { Program, Run } from '../program.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

// Slices (`${a[@]:i:n}`) count from 0 in bash and zsh alike, so the function also runs under
// zsh's bashcompinit. bash splits words at `=` and `@`; such a separator being completed is passed on.
const bashFunction = `_maas() {
  local IFS=$'\\n' line directive=0
  local cur="\${COMP_WORDS[@]:COMP_CWORD:1}"
  local -a args=("\${COMP_WORDS[@]:1:COMP_CWORD-1}") candidates=()
  if [[ "$cur" == [=@] ]]; then args+=("$cur"); cur=''; fi
  while read -r line; do
    if [[ "$line" == :[0-9]* ]]; then directive="\${line#:}"; else candidates+=("$line"); fi
  done < <(maas __complete -- "\${args[@]}" "$cur" 2>/dev/null)
  case "$directive" in
    4) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    8) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
    *) COMPREPLY=("\${candidates[@]}") ;;
  esac
}
complete -o default -F _maas maas
`;

const header = '# Candidates come from `maas __complete WORDS...`; its last line `:N` asks for files (4) or directories (8).';

const scripts: Record<(typeof SHELLS)[number], string> = {
  bash: `# maas bash completion: source <(maas completion bash)\n${header}\n${bashFunction}`,
  zsh: `#compdef maas\n# maas zsh completion: source <(maas completion zsh)\n${header}\nautoload -U +X bashcompinit && bashcompinit\n${bashFunction}`,
  // The -f entry applies only while maas offers candidates; otherwise fish completes paths itself.
  fish: `# maas fish completion: maas completion fish | source
${header}
function __maas_ask
    set -l out (maas __complete -- (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)
    set -g __maas_candidates (string match -v -r '^:[0-9]+$' -- $out)
    test "$out[-1]" = :0; and set -q __maas_candidates[1]
end
complete -c maas -e
complete -c maas -n __maas_ask -f -a '$__maas_candidates'
`,
};

export function define(program: Program, run: Run): void {
  program
    .command('completion')
    .addArgument(new Argument('<shell>').choices(SHELLS))
    .description('print a shell completion script (bash, zsh, fish)')
    .action(
      run(async (_ctx, shell) => {
        const script = scripts[shell];
        return { data: { shell, script }, text: () => script };
      }),
    );
}
