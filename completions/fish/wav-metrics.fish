function __wav-metrics_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __wav-metrics_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __wav-metrics_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __wav-metrics_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __wav-metrics_parse_tokens -S
    set -l unparsed_tokens (__wav-metrics_tokens -pc)
    switch $unparsed_tokens[1]
    case 'wav-metrics'
        __wav-metrics_parse_subcommand 2 'json' 'csv' 'j/jobs=' 'q/quiet' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __wav-metrics_parse_subcommand -r 1 'version'
        end
    end
end

function __wav-metrics_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __wav-metrics_parse_subcommand -S -a positional_count
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

function __wav-metrics_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __wav-metrics_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__wav-metrics_tokens -p)
    if test -z "$(__wav-metrics_tokens -t)"
        set -l index (count (__wav-metrics_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'wav-metrics' -f
complete -c 'wav-metrics' -n '__wav-metrics_should_offer_completions_for_positional "wav-metrics" -eq 1' -F
complete -c 'wav-metrics' -n '__wav-metrics_should_offer_completions_for_positional "wav-metrics" -eq 2' -F
complete -c 'wav-metrics' -n '__wav-metrics_should_offer_completions_for_flags_or_options "wav-metrics" json' -l 'json' -d 'Print JSON Lines: one object per pair, then the overall one.'
complete -c 'wav-metrics' -n '__wav-metrics_should_offer_completions_for_flags_or_options "wav-metrics" csv' -l 'csv' -d 'Print CSV with a header row; the last row is the overall one.'
complete -c 'wav-metrics' -n '__wav-metrics_should_offer_completions_for_flags_or_options "wav-metrics" j jobs' -l 'jobs' -s 'j' -d 'Pairs compared in parallel (default: the number of cores).' -rfka ''
complete -c 'wav-metrics' -n '__wav-metrics_should_offer_completions_for_flags_or_options "wav-metrics" q quiet' -l 'quiet' -s 'q' -d 'Print nothing on stderr but errors (no progress on a terminal).'
complete -c 'wav-metrics' -n '__wav-metrics_should_offer_completions_for_flags_or_options "wav-metrics" version' -l 'version' -d 'Show the version.'
complete -c 'wav-metrics' -n '__wav-metrics_should_offer_completions_for_flags_or_options "wav-metrics" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wav-metrics' -n '__wav-metrics_should_offer_completions_for_positional "wav-metrics" -eq 3' -fa 'help' -d 'Show subcommand help information.'
complete -c 'wav-metrics' -n '__wav-metrics_should_offer_completions_for_flags_or_options "wav-metrics help" version' -l 'version' -d 'Show the version.'
