# The change under review (see README.md): `plan.json` is this configuration's plan.
# Offline plan: see README.md ("Fixing the sources") for the provider settings.

data "aws_iam_policy_document" "app_s3" {
  statement {
    sid       = "Objects"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["arn:aws:s3:::app-bucket/*"]
  }

  statement {
    sid = "Bucket"
    actions = [
      "s3:PutBucketPolicy", # new in this change
      "s3:ListBucket",
    ]
    resources = ["arn:aws:s3:::app-bucket"]
  }
}

resource "aws_iam_role" "app" {
  name = "app"
  path = "/service/"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })

  inline_policy {
    name = "logs"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = "*"
        },
      ]
    })
  }

  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"]
}

resource "aws_iam_role_policy" "app_s3" {
  name   = "s3"
  role   = aws_iam_role.app.name
  policy = data.aws_iam_policy_document.app_s3.json
}

resource "aws_iam_role" "worker" {
  for_each = toset(["a", "b"])
  name     = "worker-${each.key}"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "worker" {
  for_each = toset(["a", "b"])
  name     = "queue"
  role     = aws_iam_role.worker[each.key].name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = { Effect = "Allow", Action = each.key == "a" ? "sqs:SendMessage" : "sqs:ReceiveMessage", Resource = "*" }
  })
}

resource "aws_iam_role" "generated" {
  name_prefix = "gen-"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_policy" "deploy" {
  count       = 1
  name        = "deploy"
  description = "CI deploys"
  policy      = <<-EOF
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["lambda:UpdateFunctionCode", "lambda:GetFunction"], "Resource": "*"}]}
  EOF
}

resource "aws_iam_user" "ci" {
  name = "ci"
}

resource "aws_iam_user_policy_attachment" "ci" {
  user       = aws_iam_user.ci.name
  policy_arn = aws_iam_policy.deploy[0].arn
}

resource "aws_iam_group" "devs" {
  name = "devs"
}

resource "aws_iam_group_policy" "devs" {
  group = aws_iam_group.devs.name
  name  = "describe"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "ec2:DescribeInstances", Resource = "*" }]
  })
}

resource "aws_iam_user_group_membership" "ci" {
  user   = aws_iam_user.ci.name
  groups = [aws_iam_group.devs.name]
}

module "batch" {
  source    = "./modules/batch"
  queue_arn = "arn:aws:batch:us-east-1:111111111111:job-queue/jobs"
}
