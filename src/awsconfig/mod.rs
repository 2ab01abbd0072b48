//! Reading and writing the AWS CLI's shared config file (`$AWS_CONFIG_FILE`, default `~/.aws/config`).
