function __mel2wav_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __mel2wav_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __mel2wav_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __mel2wav_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __mel2wav_parse_tokens -S
    set -l unparsed_tokens (__mel2wav_tokens -pc)
    switch $unparsed_tokens[1]
    case 'mel2wav'
        __mel2wav_parse_subcommand -r 1 'o/output=' 'format=' 'vocoder=' 'iters=' 'momentum=' 'init-phase=' 'seed=' 'peak=' 'shard=' 'j/jobs=' 'q/quiet' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __mel2wav_parse_subcommand -r 1 'version'
        end
    end
end

function __mel2wav_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __mel2wav_parse_subcommand -S -a positional_count
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

function __mel2wav_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __mel2wav_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__mel2wav_tokens -p)
    if test -z "$(__mel2wav_tokens -t)"
        set -l index (count (__mel2wav_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'mel2wav' -f
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_positional "mel2wav" -ge 1' -F
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" o output' -l 'output' -s 'o' -d 'Write to this audio file, or, for a folder (an existing one, or a path ending in /), one file per frame named by its key.' -rF
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" format' -l 'format' -d 'Audio format: wav (16-bit), wav-float, flac, ogg, opus or mp3 (default: by the extension of -o FILE, else wav).' -rfka 'wav wav-float flac ogg opus mp3'
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" vocoder' -l 'vocoder' -d 'How frames become audio: auto (the default: the neural vocoder shipped with the kit for frames bsq-decode made, Griffin-Lim for the others), griffin-lim, default (the shipped vocoder for every frame) or a vocoder FILE trained by bsq-train vocoder.' -rF
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" iters' -l 'iters' -d 'Griffin-Lim iterations (default 32).' -rfka ''
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" momentum' -l 'momentum' -d 'Momentum of fast Griffin-Lim, 0 for the original algorithm (default 0.99).' -rfka ''
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" init-phase' -l 'init-phase' -d 'Initial phase: random (default) or zeros.' -rfka 'random zeros'
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" seed' -l 'seed' -d 'Seed of the random initial phase: numpy\'s RandomState(seed), as librosa\'s random_state (default 0).' -rfka ''
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" peak' -l 'peak' -d 'Scale each output to this peak (default: 0.9 when the frames\' dB reference is max, else keep the level).' -rfka ''
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" shard' -l 'shard' -d 'Do only the K-th of N contiguous, balanced parts of the input frames (K from 1, N at most 1000000; frame files, not standard input); bsq-tensor cat of parts 1…N is the whole output.' -rfka ''
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" j jobs' -l 'jobs' -s 'j' -d 'Frames processed in parallel (default: the number of cores).' -rfka ''
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" q quiet' -l 'quiet' -s 'q' -d 'Nothing on stderr but errors: no warnings, no summary when every frame was made.'
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" version' -l 'version' -d 'Show the version.'
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_positional "mel2wav" -eq 2' -fa 'help' -d 'Show subcommand help information.'
complete -c 'mel2wav' -n '__mel2wav_should_offer_completions_for_flags_or_options "mel2wav help" version' -l 'version' -d 'Show the version.'
