function __bsq-encode_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __bsq-encode_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __bsq-encode_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __bsq-encode_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __bsq-encode_parse_tokens -S
    set -l unparsed_tokens (__bsq-encode_tokens -pc)
    switch $unparsed_tokens[1]
    case 'bsq-encode'
        __bsq-encode_parse_subcommand -r 1 'm/model=' 'o/output=' 'threads=' 'batch=' 'zstd' 'timing' 'q/quiet' 'shard=' 'trim' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __bsq-encode_parse_subcommand -r 1 'version'
        end
    end
end

function __bsq-encode_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __bsq-encode_parse_subcommand -S -a positional_count
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

function __bsq-encode_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __bsq-encode_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__bsq-encode_tokens -p)
    if test -z "$(__bsq-encode_tokens -t)"
        set -l index (count (__bsq-encode_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'bsq-encode' -f
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" m model' -l 'model' -s 'm' -d 'The model checkpoint (safetensors; default: the kit\'s trained tiny 18-bit model).' -rF
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" o output' -l 'output' -s 'o' -d 'Write frames to this file (atomically) instead of standard output.' -rF
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" threads' -l 'threads' -d 'Threads for the matrix products (default: the number of cores).' -rfka ''
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" batch' -l 'batch' -d 'Chunks of 10.24 s run through the model together.' -rfka ''
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" zstd' -l 'zstd' -d 'Compress payloads with zstd.'
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" timing' -l 'timing' -d 'Report on stderr the time spent in the model: ms per chunk and GFLOP/s.'
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" q quiet' -l 'quiet' -s 'q' -d 'Print nothing but errors (no progress on a terminal).'
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_positional "bsq-encode" -ge 1' -F
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" shard' -l 'shard' -d 'Do only the K-th of N contiguous, balanced parts of the input frames (K from 1, N at most 1000000; frame files, not standard input); bsq-tensor cat of parts 1…N is the whole output.' -rfka ''
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" trim' -l 'trim' -d 'Write only the covered time patches (those holding mel frames), not the padding of the last chunk.'
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_positional "bsq-encode" -eq 2' -fa 'help' -d 'Show subcommand help information.'
complete -c 'bsq-encode' -n '__bsq-encode_should_offer_completions_for_flags_or_options "bsq-encode help" version' -l 'version' -d 'Show the version.'
