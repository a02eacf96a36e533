# After: the change under review.
variable "db_password" {
  type      = string
  sensitive = true
  default   = "correct-horse-battery-staple"
}

resource "terraform_data" "vpc" {
  input = { cidr = "10.1.0.0/16", name = "main" }
}

resource "terraform_data" "subnet" {
  for_each = toset(["a", "c"])
  input    = { zone = "eu-west-1${each.key}", vpc = terraform_data.vpc.id }
}

resource "terraform_data" "dns" {
  input = "dns.example.com"
}

moved {
  from = terraform_data.legacy_dns
  to   = terraform_data.dns
}

removed {
  from = terraform_data.audit_bucket
  lifecycle {
    destroy = false
  }
}

resource "terraform_data" "database" {
  input = { engine = "postgres", password = var.db_password }
}

output "vpc_cidr" {
  value = terraform_data.vpc.output.cidr
}

output "db_password" {
  value     = var.db_password
  sensitive = true
}
