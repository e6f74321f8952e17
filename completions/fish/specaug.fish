function __specaug_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __specaug_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __specaug_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __specaug_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __specaug_parse_tokens -S
    set -l unparsed_tokens (__specaug_tokens -pc)
    switch $unparsed_tokens[1]
    case 'specaug'
        __specaug_parse_subcommand -r 1 'seed=' 'time-masks=' 'freq-masks=' 'time-width=' 'freq-width=' 'fill=' 'time-warp=' 'o/output=' 'zstd' 'j/jobs=' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __specaug_parse_subcommand -r 1 'version'
        end
    end
end

function __specaug_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __specaug_parse_subcommand -S -a positional_count
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

function __specaug_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __specaug_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__specaug_tokens -p)
    if test -z "$(__specaug_tokens -t)"
        set -l index (count (__specaug_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'specaug' -f
complete -c 'specaug' -n '__specaug_should_offer_completions_for_positional "specaug" -ge 1' -F
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" seed' -l 'seed' -d 'Seed of the masks (a frame\'s masks depend only on the seed and its key).' -rfka ''
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" time-masks' -l 'time-masks' -d 'Number of time masks.' -rfka ''
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" freq-masks' -l 'freq-masks' -d 'Number of frequency masks.' -rfka ''
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" time-width' -l 'time-width' -d 'Largest width of a time mask: a fraction of the frames (such as 0.1) or a count (such as 100).' -rfka ''
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" freq-width' -l 'freq-width' -d 'Largest width of a frequency mask: a fraction of the mel bins (such as 0.1) or a count (such as 27).' -rfka ''
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" fill' -l 'fill' -d 'Value of masked bins: floor (max − top_db, or the minimum), min, mean, or a number of dB (--fill=-60).' -rfka ''
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" time-warp' -l 'time-warp' -d 'Time warp parameter W in frames (0: off).' -rfka ''
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" o output' -l 'output' -s 'o' -d 'Write frames to this file (atomically) instead of standard output.' -rF
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" zstd' -l 'zstd' -d 'Compress payloads with zstd.'
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" j jobs' -l 'jobs' -s 'j' -d 'Frames processed in parallel (default: the number of cores).' -rfka ''
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" version' -l 'version' -d 'Show the version.'
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'specaug' -n '__specaug_should_offer_completions_for_positional "specaug" -eq 2' -fa 'help' -d 'Show subcommand help information.'
complete -c 'specaug' -n '__specaug_should_offer_completions_for_flags_or_options "specaug help" version' -l 'version' -d 'Show the version.'
