
set edit:completion:arg-completer[awsso] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) AWSSO_COMPLETE="elvish" awsso -- $@words) | to-lines
}

