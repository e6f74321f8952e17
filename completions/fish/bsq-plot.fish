function __bsq-plot_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __bsq-plot_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __bsq-plot_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __bsq-plot_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __bsq-plot_parse_tokens -S
    set -l unparsed_tokens (__bsq-plot_tokens -pc)
    switch $unparsed_tokens[1]
    case 'bsq-plot'
        __bsq-plot_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'curves'
            __bsq-plot_parse_subcommand -r 1 'o/output=' 'keys=+' 'log-y' 'smooth=' 'title=' 'version' 'h/help'
        case 'mel'
            __bsq-plot_parse_subcommand -r 1 'o/output=' 'frame=' 'key=' 'label=+' 'title=' 'db-min=' 'db-max=' 'colormap=' 'version' 'h/help'
        case 'help'
            __bsq-plot_parse_subcommand -r 1 'version'
        end
    end
end

function __bsq-plot_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __bsq-plot_parse_subcommand -S -a positional_count
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

function __bsq-plot_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __bsq-plot_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__bsq-plot_tokens -p)
    if test -z "$(__bsq-plot_tokens -t)"
        set -l index (count (__bsq-plot_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'bsq-plot' -f
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_positional "bsq-plot" -eq 1' -fa 'curves' -d 'Plot training logs (JSON Lines) against the step, one panel per quantity.'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_positional "bsq-plot" -eq 1' -fa 'mel' -d 'Draw mel frames as images, one panel per stream, on one colour scale.'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_positional "bsq-plot" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_positional "bsq-plot curves" -ge 1' -F
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot curves" o output' -l 'output' -s 'o' -d 'PNG image to write.' -rF
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot curves"' -l 'keys' -d 'A panel of these comma-separated keys (repeatable: one panel each).' -rfka ''
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot curves" log-y' -l 'log-y' -d 'Logarithmic y axes (values <= 0 are left out).'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot curves" smooth' -l 'smooth' -d 'Draw an exponential moving average with this weight on the past (0 to < 1) over the raw values (lr is never smoothed).' -rfka ''
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot curves" title' -l 'title' -d 'Title above the panels.' -rfka ''
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot curves" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot curves" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_positional "bsq-plot mel" -ge 1' -F
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot mel" o output' -l 'output' -s 'o' -d 'PNG image to write.' -rF
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot mel" frame' -l 'frame' -d 'Draw the frame at this index of each stream (from 0).' -rfka ''
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot mel" key' -l 'key' -d 'Draw the frame with this key from each stream.' -rfka ''
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot mel"' -l 'label' -d 'Title of a panel, in the order of the streams (repeatable; default: stream: key).' -rfka ''
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot mel" title' -l 'title' -d 'Title above the panels.' -rfka ''
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot mel" db-min' -l 'db-min' -d 'dB at the bottom of the colour map (a negative value as --db-min=-80).' -rfka ''
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot mel" db-max' -l 'db-max' -d 'dB at the top of the colour map.' -rfka ''
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot mel" colormap' -l 'colormap' -d 'Colour map: viridis or magma.' -rfka 'viridis magma'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot mel" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot mel" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-plot' -n '__bsq-plot_should_offer_completions_for_flags_or_options "bsq-plot help" version' -l 'version' -d 'Show the version.'
