complete --keep-order --exclusive --command awsso --arguments "(AWSSO_COMPLETE=fish awsso -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
