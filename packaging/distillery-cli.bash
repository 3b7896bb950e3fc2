# bash completion for distillery-cli: its commands, each command's options,
# and file names where an option or argument takes a file.
# Installed as share/bash-completion/completions/distillery-cli. The package
# check (packaging/check_deb.sh) compares these lists with `distillery-cli
# COMMAND --help`, so a new command or option without completion fails CI.

_distillery_cli_commands="run runs check show metrics sweep generate export-chart export-cost-chart report table methods export resume model-card serve audit-log forensics forensics-roc watermark-test launch submit cancel"

# The options of one command (the top-level options for "").
_distillery_cli_options() {
  case "$1" in
    "") echo "--help --version --db" ;;
    run) echo "--help --default --default-lm --baseline --db --run-id --job-dir" ;;
    runs) echo "--help --json --db" ;;
    check) echo "--help --db" ;;
    show) echo "--help --json --db" ;;
    metrics) echo "--help --csv --metric --db" ;;
    sweep) echo "--help --parallel --dry-run --db" ;;
    generate) echo "--help --prompt --tokens --temperature --seed --json --db" ;;
    export-chart)
      echo "--help --runs --metric --x --log-y --smoothing --x-min --x-max --y-min --y-max --dpi --width-in" \
           "--height-in --title --out --db" ;;
    export-cost-chart)
      echo "--help --runs --cost --accuracy --x-scale --dpi --width-in --height-in --title --out --db" ;;
    report) echo "--help --runs --metrics --x --smoothing --cost --title --out --db" ;;
    table) echo "--help --runs --kind --only-differing --fit-width --format --title --out --db" ;;
    methods) echo "--help --json" ;;
    export) echo "--help --out --db" ;;
    resume) echo "--help --db" ;;
    launch) echo "--help --nproc --resume --db" ;;
    model-card) echo "--help --teacher --shape --classes --device --no-latency --json" ;;
    serve) echo "--help --config --port --host --db" ;;
    audit-log) echo "--help --data --dataset --delta --json" ;;
    forensics) echo "--help --suspect --teacher --null --tests --confer-with --confer-against --fingerprint-crafting --inputs --seed --json --db" ;;
    forensics-roc) echo "--help --teacher --null --negatives --positives --confer-with --confer-against --fingerprint-crafting --tests --inputs --seed --json --db" ;;
    watermark-test)
      echo "--help --suspect --key --gamma --context --samples --length --temperature --seed --open-weights --statistic --reference --reading --text" \
           "--json --db" ;;
    submit)
      echo "--help --slurm --nodes --ntasks-per-node --gpus-per-task --partition --time --account --job-dir" \
           "--dry-run --db" ;;
    cancel) echo "--help --db" ;;
  esac
}

_distillery_cli() {
  local cur prev command="" i
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD - 1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case " ${_distillery_cli_commands} " in
      *" ${COMP_WORDS[i]} "*) command="${COMP_WORDS[i]}"; break ;;
    esac
  done

  # Values of the options that take one.
  case "${prev}" in
    --db | --out | --teacher | --config | --data | --text) mapfile -t COMPREPLY < <(compgen -f -- "${cur}"); return ;;
    --x) mapfile -t COMPREPLY < <(compgen -W "step epoch wall flops queries money" -- "${cur}"); return ;;
    --cost) mapfile -t COMPREPLY < <(compgen -W "wall flops inference-flops params queries money" -- "${cur}"); return ;;
    --accuracy) mapfile -t COMPREPLY < <(compgen -W "test best-val" -- "${cur}"); return ;;
    --x-scale) mapfile -t COMPREPLY < <(compgen -W "log linear" -- "${cur}"); return ;;
    --kind) mapfile -t COMPREPLY < <(compgen -W "summary diff" -- "${cur}"); return ;;
    --format) mapfile -t COMPREPLY < <(compgen -W "md tex csv html" -- "${cur}"); return ;;
    --suspect) mapfile -t COMPREPLY < <(compgen -f -- "${cur}"); return ;; # forensics: a run id, .pt file or URL
    --tests) mapfile -t COMPREPLY < <(compgen -W "agreement sac fingerprint" -- "${cur}"); return ;;
    --null | --confer-with | --confer-against | --inputs) COMPREPLY=(); return ;;
    --fingerprint-crafting) mapfile -t COMPREPLY < <(compgen -W "teacher conferrable" -- "${cur}"); return ;;
    --negatives | --positives) COMPREPLY=(); return ;; # forensics-roc: run ids, KIND=IDS
    --job-dir) mapfile -t COMPREPLY < <(compgen -d -- "${cur}"); return ;;
    --nodes | --ntasks-per-node | --gpus-per-task | --partition | --time | --account | --run-id) COMPREPLY=(); return ;;
    --device) mapfile -t COMPREPLY < <(compgen -W "cpu cuda auto" -- "${cur}"); return ;;
    --dataset) mapfile -t COMPREPLY < <(compgen -W "fashion-mnist mnist" -- "${cur}"); return ;;
    --runs | --metric | --metrics | --parallel | --prompt | --tokens | --temperature | --seed | --smoothing | \
    --x-min | --x-max | --y-min | --y-max | --dpi | --width-in | --height-in | --title | --shape | --classes | \
    --port | --host | --delta | --key | --gamma | --context | --samples | --length | --nproc | --resume)
      COMPREPLY=(); return ;;
  esac

  if [[ -z "${command}" ]]; then
    mapfile -t COMPREPLY < <(compgen -W "${_distillery_cli_commands} $(_distillery_cli_options "")" -- "${cur}")
    return
  fi
  if [[ "${cur}" == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_distillery_cli_options "${command}")" -- "${cur}")
    return
  fi
  # Positional arguments: config and sweep files, .pt models (serve: a run id or a .pt file).
  case "${command}" in
    run | sweep | launch | submit) mapfile -t COMPREPLY < <(compgen -f -X '!*.json' -- "${cur}"); compopt -o plusdirs 2>/dev/null ;;
    model-card | serve | audit-log) mapfile -t COMPREPLY < <(compgen -f -- "${cur}") ;;
    *) COMPREPLY=() ;;
  esac
}

complete -F _distillery_cli distillery-cli
