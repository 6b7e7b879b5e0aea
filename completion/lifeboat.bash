# bash completion for lifeboat(1)                           -*- shell-script -*-
#
# Installed as share/bash-completion/completions/lifeboat. Commands and their
# options come from the binary itself (the hidden `lifeboat --list-options
# [CMD]`), so they never drift from --help; run ids come from the history
# (`lifeboat history --json`), environment names from the config
# (`lifeboat --list-environments`), both read with the --db and --config
# already typed, and -p's names from the runbook on the line (`lifeboat
# --list-params FILE`; loading a runbook runs nothing). Nothing here creates
# or changes a file.

# The completion's own lifeboat: the binary being completed, with the --db
# and --config given so far (from the words before the current one).
_lifeboat_run()
{
    local -a globals=()
    [[ -n $_lb_db ]] && globals+=(--db "$_lb_db")
    [[ -n $_lb_config ]] && globals+=(--config "$_lb_config")
    "$_lb_bin" "${globals[@]}" "$@" 2>/dev/null
}

_lifeboat_run_ids()
{
    _lifeboat_run history --json --limit 100 |
        command sed -n 's/^ *"run_id": *"\([^"]*\)".*/\1/p'
}

_lifeboat()
{
    local cur prev words cword split
    _init_completion -s || return

    local _lb_bin=${words[0]} _lb_db= _lb_config=
    # a path typed with ~ is run as the user means it
    [[ $_lb_bin == \~* ]] && _lb_bin=${_lb_bin/#\~/$HOME}

    # The command's name: the first word that is neither a global option
    # nor the value of one. --db and --config are kept for the look-ups.
    local i cmd= cmd_at=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --db | --config | --as)
                [[ ${words[i]} == --db ]] && _lb_db=${words[i + 1]}
                [[ ${words[i]} == --config ]] && _lb_config=${words[i + 1]}
                ((i++))
                ;;
            --db=*) _lb_db=${words[i]#--db=} ;;
            --config=*) _lb_config=${words[i]#--config=} ;;
            -*) ;;
            *)
                if [[ -z $cmd ]]; then
                    cmd=${words[i]} cmd_at=$i
                    break
                fi
                ;;
        esac
    done
    # --db and --config may also follow the command
    for ((i = cmd_at + 1; cmd_at && i < cword; i++)); do
        case ${words[i]} in
            --db) _lb_db=${words[i + 1]} ;;
            --config) _lb_config=${words[i + 1]} ;;
            --db=*) _lb_db=${words[i]#--db=} ;;
            --config=*) _lb_config=${words[i]#--config=} ;;
        esac
    done

    # "--env ENV", "-p NAME=VALUE", "--yes", ... then "ARGS RUN_ID [STEP]"
    local -a list
    mapfile -t list < <(_lifeboat_run --list-options ${cmd:+"$cmd"})

    # The command's arguments (all but the word being typed), skipping the
    # options and the values of those that take one; n: how many come
    # before the word being typed.
    local -a args=()
    local line n=0 skip= after_dashes=
    for ((i = cmd_at + 1; cmd_at && i < ${#words[@]}; i++)); do
        if [[ $skip ]]; then
            skip=
            continue
        fi
        ((i == cword)) && continue
        if [[ ! $after_dashes ]]; then
            case ${words[i]} in
                --)
                    after_dashes=1
                    continue
                    ;;
                --*=*) continue ;;
                -?*)
                    for line in "${list[@]}"; do
                        [[ ${line%% *} == "${words[i]}" && $line == *" "* ]] && skip=1
                    done
                    continue
                    ;;
            esac
        fi
        args+=("${words[i]}")
        ((i < cword)) && ((n++))
    done

    # the value of an option: what its metavariable names
    local opt metavar= takes_value=
    for line in "${list[@]}"; do
        opt=${line%% *}
        if [[ $opt == "$prev" && $line == *" "* && $opt == -* ]]; then
            takes_value=1 metavar=${line#* }
            break
        fi
    done
    if [[ $takes_value ]]; then
        case $metavar in
            ENV) COMPREPLY=($(compgen -W "$(_lifeboat_run --list-environments)" -- "$cur")) ;;
            RUN_ID) COMPREPLY=($(compgen -W "$(_lifeboat_run_ids)" -- "$cur")) ;;
            FILE | PATH)
                case $prev in
                    --config) _filedir '@(yaml|yml)' ;;
                    *) _filedir ;;
                esac
                ;;
            *'|'*) COMPREPLY=($(compgen -W "${metavar//|/ }" -- "$cur")) ;;
            NAME=VALUE)
                # the params the runbook on the line declares, then its value
                if [[ $cur != *=* && ${args[0]-} == *.lua ]]; then
                    COMPREPLY=($(compgen -S = -W "$(_lifeboat_run --list-params "${args[0]}")" -- "$cur"))
                    compopt -o nospace 2>/dev/null
                fi
                ;;
        esac
        return
    fi
    $split && return

    if [[ $cur == -* ]]; then
        local -a opts=()
        for line in "${list[@]}"; do
            [[ $line == -* ]] && opts+=("${line%% *}")
        done
        COMPREPLY=($(compgen -W "${opts[*]}" -- "$cur"))
        return
    fi

    if [[ -z $cmd ]]; then
        local -a cmds=()
        for line in "${list[@]}"; do
            [[ $line != -* ]] && cmds+=("$line")
        done
        COMPREPLY=($(compgen -W "${cmds[*]}" -- "$cur"))
        return
    fi

    # the n-th word of the spec ("ARGS RUN_ID [STEP]"); a last one with "..." repeats
    local spec=
    for line in "${list[@]}"; do
        [[ $line == "ARGS "* ]] && spec=${line#ARGS }
    done
    local -a kinds
    read -ra kinds <<<"${spec//[\[\]]/}"
    local kind=
    if ((n < ${#kinds[@]})); then
        kind=${kinds[n]}
    elif ((${#kinds[@]})) && [[ ${kinds[-1]} == *... ]]; then
        kind=${kinds[-1]}
    fi
    case ${kind%...} in
        FILE | RUNBOOK) _filedir lua ;;
        DIR) _filedir -d ;;
        RUN_ID) COMPREPLY=($(compgen -W "$(_lifeboat_run_ids)" -- "$cur")) ;;
        COMMAND) COMPREPLY=($(compgen -W "$(_lifeboat_run --list-commands)" -- "$cur")) ;;
        [a-z]*) COMPREPLY=($(compgen -W "${kind%...}" -- "$cur")) ;;
    esac
} &&
    complete -F _lifeboat lifeboat

# ex: filetype=sh
