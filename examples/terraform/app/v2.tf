resource "terraform_data" "server" {
  triggers_replace = ["image-2024-06"]
  input            = { size = "small" }
}

resource "terraform_data" "config" {
  input = { replicas = 3, log_level = "info" }
}

resource "terraform_data" "worker" {
  input = { queue = "jobs" }
}

check "replicas" {
  assert {
    condition     = terraform_data.config.output.replicas >= 2
    error_message = "at least two replicas"
  }
}

output "server_id" {
  value = terraform_data.server.id
}
