function __bsq-train_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __bsq-train_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __bsq-train_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __bsq-train_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __bsq-train_parse_tokens -S
    set -l unparsed_tokens (__bsq-train_tokens -pc)
    switch $unparsed_tokens[1]
    case 'bsq-train'
        __bsq-train_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'train'
            __bsq-train_parse_subcommand -r 1 'list=+' 'root=' 'o/output=' 'resume=' 'config=' 'set=+' 'steps=' 'batch=' 'lr=' 'seed=' 'val=+' 'log=' 'plot=' 'threads=' 'q/quiet' 'preset=' 'init=' 'specaug' 'recompute' 'version' 'h/help'
        case 'vocoder'
            __bsq-train_parse_subcommand -r 1 'list=+' 'root=' 'o/output=' 'resume=' 'config=' 'set=+' 'steps=' 'batch=' 'lr=' 'seed=' 'val=+' 'log=' 'plot=' 'threads=' 'q/quiet' 'preset=' 'init=' 'codec=' 'version' 'h/help'
        case 'init'
            __bsq-train_parse_subcommand 0 'preset=' 'bits=' 'group-size=' 'conv' 'no-conv' 'seed=' 'name=' 'o/output=' 'version' 'h/help'
        case 'export'
            __bsq-train_parse_subcommand 1 'o/output=' 'f16' 'name=' 'onnx' 'version' 'h/help'
        case 'help'
            __bsq-train_parse_subcommand -r 1 'version'
        end
    end
end

function __bsq-train_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __bsq-train_parse_subcommand -S -a positional_count
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

function __bsq-train_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __bsq-train_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__bsq-train_tokens -p)
    if test -z "$(__bsq-train_tokens -t)"
        set -l index (count (__bsq-train_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'bsq-train' -f
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_positional "bsq-train" -eq 1' -fa 'train' -d 'Train a model on folders of audio or streams of mel frames.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_positional "bsq-train" -eq 1' -fa 'vocoder' -d 'Train the neural vocoder (mel2wav --vocoder) on folders of audio.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_positional "bsq-train" -eq 1' -fa 'init' -d 'Write a randomly initialised checkpoint of a preset.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_positional "bsq-train" -eq 1' -fa 'export' -d 'Write the weights a model runs with (the EMA copy when present) without the training state.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_positional "bsq-train" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_positional "bsq-train train" -ge 1' -F
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train"' -l 'list' -d 'A list of audio files (one path per line, or a TSV with a \'path\' column).' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" root' -l 'root' -d 'Folder that relative paths in lists are resolved against.' -rfa '(__bsq-train_complete_directories)'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" o output' -l 'output' -s 'o' -d 'Run folder (created if missing; a new run refuses one that holds a run).' -rfa '(__bsq-train_complete_directories)'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" resume' -l 'resume' -d 'Continue a run: a checkpoint, or a run folder (its latest checkpoint).' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" config' -l 'config' -d 'JSON file of sections ({"model"|"vocoder": {...}, "train": {...}}) overriding the preset\'s fields.' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train"' -l 'set' -d 'Override one field, e.g. train.lr=1e-3 or model.layers=2 (repeatable).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" steps' -l 'steps' -d 'Training steps (train.steps; may be raised when resuming).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" batch' -l 'batch' -d 'Crops per step (train.batch).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" lr' -l 'lr' -d 'Peak learning rate (train.lr).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" seed' -l 'seed' -d 'Seed of initialisation, data order, crops and masks (train.seed).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train"' -l 'val' -d 'Held-out data evaluated with the EMA weights every train.val_every steps (repeatable).' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" log' -l 'log' -d 'JSON-lines log (default: RUN/log.jsonl).' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" plot' -l 'plot' -d 'Redraw the training curves (bsq-plot curves) into this PNG at every checkpoint.' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" threads' -l 'threads' -d 'Workers of the training step and the validation (OpenBLAS runs single-threaded inside each).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" q quiet' -l 'quiet' -s 'q' -d 'No progress bar or summary.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" preset' -l 'preset' -d 'Model preset: tiny, small or base (default: tiny).' -rfka 'tiny small base'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" init' -l 'init' -d 'Fine-tune: start from the weights of this model or checkpoint (its EMA weights when it has them) and its model configuration, with a fresh optimizer and schedule.' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" specaug' -l 'specaug' -d 'Apply SpecAugment masks to the training crops (train.specaug).'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" recompute' -l 'recompute' -d 'Gradient checkpointing: recompute block activations in the backward (train.recompute).'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train train" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_positional "bsq-train vocoder" -ge 1' -F
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder"' -l 'list' -d 'A list of audio files (one path per line, or a TSV with a \'path\' column).' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" root' -l 'root' -d 'Folder that relative paths in lists are resolved against.' -rfa '(__bsq-train_complete_directories)'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" o output' -l 'output' -s 'o' -d 'Run folder (created if missing; a new run refuses one that holds a run).' -rfa '(__bsq-train_complete_directories)'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" resume' -l 'resume' -d 'Continue a run: a checkpoint, or a run folder (its latest checkpoint).' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" config' -l 'config' -d 'JSON file of sections ({"model"|"vocoder": {...}, "train": {...}}) overriding the preset\'s fields.' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder"' -l 'set' -d 'Override one field, e.g. train.lr=1e-3 or model.layers=2 (repeatable).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" steps' -l 'steps' -d 'Training steps (train.steps; may be raised when resuming).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" batch' -l 'batch' -d 'Crops per step (train.batch).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" lr' -l 'lr' -d 'Peak learning rate (train.lr).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" seed' -l 'seed' -d 'Seed of initialisation, data order, crops and masks (train.seed).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder"' -l 'val' -d 'Held-out data evaluated with the EMA weights every train.val_every steps (repeatable).' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" log' -l 'log' -d 'JSON-lines log (default: RUN/log.jsonl).' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" plot' -l 'plot' -d 'Redraw the training curves (bsq-plot curves) into this PNG at every checkpoint.' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" threads' -l 'threads' -d 'Workers of the training step and the validation (OpenBLAS runs single-threaded inside each).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" q quiet' -l 'quiet' -s 'q' -d 'No progress bar or summary.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" preset' -l 'preset' -d 'Vocoder preset: tiny or base (default: tiny).' -rfka 'tiny base'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" init' -l 'init' -d 'Fine-tune: start from the weights of this vocoder (its EMA weights when it has them) and its configuration, with a fresh optimizer and schedule.' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" codec' -l 'codec' -d 'Fine-tune on this tokenizer\'s reconstructions: the input mel is bsq-decode(bsq-encode(mel)) with it.' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train vocoder" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train init" preset' -l 'preset' -d 'Model size: tiny, small or base.' -rfka 'tiny small base'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train init" bits' -l 'bits' -d 'Bits per token (the BSQ embedding dimension), e.g. 9, 18 or 36.' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train init" group-size' -l 'group-size' -d 'Bits per entropy group (default 9, or the bit count when smaller).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train init" conv' -l 'conv' -d 'Include the Conformer convolution module (default: on).'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train init" no-conv' -l 'no-conv' -d 'Include the Conformer convolution module (default: on).'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train init" seed' -l 'seed' -d 'Seed of the initialisation.' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train init" name' -l 'name' -d 'Name recorded in the config (default: the preset).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train init" o output' -l 'output' -s 'o' -d 'Checkpoint to write.' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train init" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train init" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_positional "bsq-train export" -eq 1' -F
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train export" o output' -l 'output' -s 'o' -d 'Model file to write.' -rF
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train export" f16' -l 'f16' -d 'Store the tensors as F16.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train export" name' -l 'name' -d 'Name recorded in the config (default: the checkpoint\'s).' -rfka ''
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train export" onnx' -l 'onnx' -d 'Write the encoder and the decoder as ONNX graphs into the folder -o.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train export" version' -l 'version' -d 'Show the version.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train export" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'bsq-train' -n '__bsq-train_should_offer_completions_for_flags_or_options "bsq-train help" version' -l 'version' -d 'Show the version.'
