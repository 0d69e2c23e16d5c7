"""The worker daemon: Elastic Beanstalk's sqsd contract on plain SQS, DynamoDB and CloudWatch."""
