function __bsq-decode_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __bsq-decode_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __bsq-decode_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __bsq-decode_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __bsq-decode_parse_tokens -S
    set -l unparsed_tokens (__bsq-decode_tokens -pc)
    switch $unparsed_tokens[1]
    case 'bsq-decode'
        __bsq-decode_parse_subcommand -r 1 'm/model=' 'o/output=' 'threads=' 'batch=' 'zstd' 'timing' 'q/quiet' 'shard=' 'force' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __bsq-decode_parse_subcommand -r 1 'version'
        end
    end
end

function __bsq-decode_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __bsq-decode_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __bsq-decode_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __bsq-decode_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__bsq-decode_tokens -p)
    if test -z "$(__bsq-decode_tokens -t)"
        set -l index (count (__bsq-decode_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'bsq-decode' -f
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" m model' -l 'model' -s 'm' -d 'The model checkpoint (safetensors; default: the kit\'s trained tiny 18-bit model).' -rF
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" o output' -l 'output' -s 'o' -d 'Write frames to this file (atomically) instead of standard output.' -rF
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" threads' -l 'threads' -d 'Threads for the matrix products (default: the number of cores).' -rfka ''
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" batch' -l 'batch' -d 'Chunks of 10.24 s run through the model together.' -rfka ''
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" zstd' -l 'zstd' -d 'Compress payloads with zstd.'
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" timing' -l 'timing' -d 'Report on stderr the time spent in the model: ms per chunk and GFLOP/s.'
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" q quiet' -l 'quiet' -s 'q' -d 'Print nothing but errors (no progress on a terminal).'
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_positional "bsq-decode" -ge 1' -F
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" shard' -l 'shard' -d 'Do only the K-th of N contiguous, balanced parts of the input frames (K from 1, N at most 1000000; frame files, not standard input); bsq-tensor cat of parts 1…N is the whole output.' -rfka ''
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" force' -l 'force' -d 'Decode codes even when they were made by another model.'
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_positional "bsq-decode" -eq 2' -fa 'help' -d 'Show subcommand help information.'
complete -c 'bsq-decode' -n '__bsq-decode_should_offer_completions_for_flags_or_options "bsq-decode help" version' -l 'version' -d 'Show the version.'
