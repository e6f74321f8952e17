function __mel_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __mel_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __mel_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __mel_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __mel_parse_tokens -S
    set -l unparsed_tokens (__mel_tokens -pc)
    switch $unparsed_tokens[1]
    case 'mel'
        __mel_parse_subcommand -r 1 'list=' 'root=' 'o/output=' 'preset=' 'sample-rate=' '0-n-fft=' 'win-length=' 'hop-length=' '1-n-mels=' 'fmin=' 'fmax=' 'mel-scale=' 'norm=' 'power=' 'center' 'no-center' 'pad-mode=' 'ref=' 'amin=' 'top-db=' 'frames=' 'crop=' 'seed=' 'shard=' 'j/jobs=' 'zstd' 'q/quiet' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __mel_parse_subcommand -r 1 'version'
        end
    end
end

function __mel_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __mel_parse_subcommand -S -a positional_count
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

function __mel_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __mel_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__mel_tokens -p)
    if test -z "$(__mel_tokens -t)"
        set -l index (count (__mel_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'mel' -f
complete -c 'mel' -n '__mel_should_offer_completions_for_positional "mel" -ge 1' -F
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" list' -l 'list' -d 'Read inputs from a list: one path per line, or a TSV with a \'path\' column.' -rF
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" root' -l 'root' -d 'Folder that relative paths in --list are under (default: the list\'s folder, or its clips/ folder for a TSV).' -rfa '(__mel_complete_directories)'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" o output' -l 'output' -s 'o' -d 'Write frames to this file (atomically) instead of standard output.' -rF
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" preset' -l 'preset' -d 'Start from a preset\'s settings: librosa (default) or torchaudio.' -rfka 'librosa torchaudio'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" sample-rate sr' -l 'sample-rate' -l 'sr' -d 'Sample rate the audio is resampled to (Hz, default 16000; --sr as librosa names it).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" n-fft' -l 'n-fft' -d 'FFT size (default 1024).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" win-length' -l 'win-length' -d 'Hann window length, centered in the FFT (default: --n-fft).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" hop hop-length' -l 'hop-length' -l 'hop' -d 'Samples between frames (default 160; also --hop).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" n-mels' -l 'n-mels' -d 'Number of mel bands (default 128).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" fmin' -l 'fmin' -d 'Lowest filter edge (Hz, default 0).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" fmax' -l 'fmax' -d 'Highest filter edge (Hz, default: half the sample rate).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" mel-scale' -l 'mel-scale' -d 'Mel scale: slaney (default) or htk.' -rfka 'slaney htk'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" norm' -l 'norm' -d 'Filter normalization: slaney (default, equal area) or none (peak 1).' -rfka 'slaney none'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" power' -l 'power' -d 'Exponent of the magnitude (2 power, 1 magnitude; default 2).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" center' -l 'center' -d 'Center frames on their time by padding n_fft/2 each side (default: on).'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" no-center' -l 'no-center' -d 'Center frames on their time by padding n_fft/2 each side (default: on).'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" pad-mode' -l 'pad-mode' -d 'Padding when centered: constant (zeros, default) or reflect.' -rfka 'constant reflect'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" ref' -l 'ref' -d 'dB reference: max (the file\'s loudest bin, default) or a fixed power.' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" amin' -l 'amin' -d 'Smallest power before the log (default 1e-10).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" top-db' -l 'top-db' -d 'Clip to this many dB below the loudest bin, or none (default 80).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" frames' -l 'frames' -d 'Pad (with the dB floor) or crop every spectrogram to exactly n frames.' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" crop' -l 'crop' -d 'Which frames --frames keeps: start (default), center or random.' -rfka 'start center random'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" seed' -l 'seed' -d 'Seed of --crop random (the crop depends only on the seed and the key).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" shard' -l 'shard' -d 'Do only the K-th of N contiguous, balanced parts of the input files (K from 1, N at most 1000000); bsq-tensor cat of parts 1…N is the whole output.' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" j jobs' -l 'jobs' -s 'j' -d 'Inputs processed in parallel (default: the number of cores).' -rfka ''
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" zstd' -l 'zstd' -d 'Compress payloads with zstd.'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" q quiet' -l 'quiet' -s 'q' -d 'Nothing on stderr but errors: no progress bar (shown only on a terminal), no summary when every input was processed.'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" version' -l 'version' -d 'Show the version.'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'mel' -n '__mel_should_offer_completions_for_positional "mel" -eq 2' -fa 'help' -d 'Show subcommand help information.'
complete -c 'mel' -n '__mel_should_offer_completions_for_flags_or_options "mel help" version' -l 'version' -d 'Show the version.'
