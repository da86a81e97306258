variable "queue_arn" {
  type = string
}

resource "aws_iam_role" "batch" {
  name = "batch-runner"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

data "aws_iam_policy_document" "batch" {
  statement {
    actions   = ["batch:SubmitJob", "batch:DescribeJobs"]
    resources = [var.queue_arn]
  }
}

resource "aws_iam_role_policy" "batch" {
  name   = "jobs"
  role   = aws_iam_role.batch.name
  policy = data.aws_iam_policy_document.batch.json
}
