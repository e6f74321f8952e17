function __bsq-tensor_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __bsq-tensor_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __bsq-tensor_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __bsq-tensor_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __bsq-tensor_parse_tokens -S
    set -l unparsed_tokens (__bsq-tensor_tokens -pc)
    switch $unparsed_tokens[1]
    case 'bsq-tensor'
        __bsq-tensor_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'info'
            __bsq-tensor_parse_subcommand -r 1 'json' 'version' 'h/help'
        case 'cat'
            __bsq-tensor_parse_subcommand -r 1 'key=+' 'kind=' 'zstd' 'no-zstd' 'version' 'h/help'
        case 'to-npy'
            __bsq-tensor_parse_subcommand -r 1 'o/output=' 'version' 'h/help'
        case 'from-npy'
            __bsq-tensor_parse_subcommand -r 1 'kind=' 'meta=' 'key=' 'zstd' 'version' 'h/help'
        case 'to-text'
            __bsq-tensor_parse_subcommand -r 1 'format=' 'covered' 'version' 'h/help'
        case 'from-text'
            __bsq-tensor_parse_subcommand -r 1 'format=' 'bits=' 'freq-patches=' 'm/model=' 'model-name=' 'model-sha256=' 'frames=' 'zstd' 'version' 'h/help'
        case 'help'
            __bsq-tensor_parse_subcommand -r 1 'version'
        end
    end
end

function __bsq-tensor_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __bsq-tensor_parse_subcommand -S -a positional_count
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

function __bsq-tensor_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __bsq-tensor_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__bsq-tensor_tokens -p)
    if test -z "$(__bsq-tensor_tokens -t)"
        set -l index (count (__bsq-tensor_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'bsq-tensor' -f
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor" -eq 1' -fa 'info' -d 'Print one line per frame: key, kind, dtype, dims, stored bytes, compression.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor" -eq 1' -fa 'cat' -d 'Concatenate frame streams to standard output, optionally selecting and recompressing.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor" -eq 1' -fa 'to-npy' -d 'Write each frame as KEY.npy (and its metadata as KEY.json) under a folder.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor" -eq 1' -fa 'from-npy' -d 'Turn .npy files into frames on standard output.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor" -eq 1' -fa 'to-text' -d 'Write the tokens of codes frames as text, one line per frame.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor" -eq 1' -fa 'from-text' -d 'Turn lines of tokens (to-text\'s tsv or jsonl) into codes frames on standard output.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor info" json' -l 'json' -d 'Print one JSON object per frame (JSON Lines), with the full metadata.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor info" -ge 1' -F
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor info" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor cat"' -l 'key' -d 'Keep only frames with this key (repeatable).' -rfka ''
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor cat" kind' -l 'kind' -d 'Keep only frames of this kind (mel, codes, audio, tensor).' -rfka 'mel codes audio tensor'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor cat" zstd' -l 'zstd' -d 'Compress payloads with zstd, or store them plain (default: as they are).'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor cat" no-zstd' -l 'no-zstd' -d 'Compress payloads with zstd, or store them plain (default: as they are).'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor cat" -ge 1' -F
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor cat" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor cat" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor to-npy" o output' -l 'output' -s 'o' -d 'Output folder (created if missing).' -rfa '(__bsq-tensor_complete_directories)'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor to-npy" -ge 1' -F
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor to-npy" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor to-npy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-npy" kind' -l 'kind' -d 'The frame kind to record (mel, codes, audio, tensor).' -rfka 'mel codes audio tensor'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-npy" meta' -l 'meta' -d 'Metadata: a JSON object, or @FILE to read one (such as a .json that to-npy wrote).' -rfka ''
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-npy" key' -l 'key' -d 'The key to record (only with a single file).' -rfka ''
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-npy" zstd' -l 'zstd' -d 'Compress payloads with zstd.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor from-npy" -ge 1' -fa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'npy\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-npy" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-npy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor to-text" format' -l 'format' -d 'tsv (KEY<TAB>tokens, as a Kaldi text archive) or jsonl (one JSON object per frame).' -rfka 'tsv jsonl'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor to-text" covered' -l 'covered' -d 'Write only the covered time patches (those holding mel frames), as bsq-encode --trim keeps.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor to-text" -ge 1' -F
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor to-text" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor to-text" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-text" format' -l 'format' -d 'tsv (KEY<TAB>tokens) or jsonl (to-text\'s JSON objects).' -rfka 'tsv jsonl'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-text" bits' -l 'bits' -d 'Bits per token (default: the line\'s, the model\'s, or 18).' -rfka ''
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-text" freq-patches' -l 'freq-patches' -d 'Frequency patches per time patch (default: the line\'s shape, the model\'s, or 8).' -rfka ''
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-text" m model' -l 'model' -s 'm' -d 'The checkpoint the tokens are for, or default for the kit\'s model: its name, sha256 and configuration.' -rF
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-text" model-name' -l 'model-name' -d 'The model name to record (with --model-sha256).' -rfka ''
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-text" model-sha256' -l 'model-sha256' -d 'The SHA-256 of the model\'s file to record (with --model-name).' -rfka ''
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-text" frames' -l 'frames' -d 'Mel frames the tokens stand for (default: the line\'s, or time patches × 16).' -rfka ''
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-text" zstd' -l 'zstd' -d 'Compress payloads with zstd.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_positional "bsq-tensor from-text" -ge 1' -F
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-text" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor from-text" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-tensor' -n '__bsq-tensor_should_offer_completions_for_flags_or_options "bsq-tensor help" version' -l 'version' -d 'Show the version.'
