resource "terraform_data" "server" {
  triggers_replace = ["image-2024-01"]
  input            = { size = "small" }
}

resource "terraform_data" "config" {
  input = { replicas = 2, log_level = "info" }
}
