# Before: what is applied today.
resource "terraform_data" "vpc" {
  input = { cidr = "10.0.0.0/16", name = "main" }
}

resource "terraform_data" "subnet" {
  for_each = toset(["a", "b"])
  input    = { zone = "eu-west-1${each.key}", vpc = terraform_data.vpc.id }
}

resource "terraform_data" "cache" {
  input = "redis-6"
}

resource "terraform_data" "legacy_dns" {
  input = "dns.example.com"
}

resource "terraform_data" "audit_bucket" {
  input = "audit-logs"
}
