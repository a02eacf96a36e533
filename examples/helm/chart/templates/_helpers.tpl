{{- define "cart.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
gantry.dev/track: {{ .Values.gantry.track }}
{{- end -}}
{{- /* The objects' name: the release's, or fullnameOverride (which every track's release would
render alike: helm-deploy refuses a canary or blue-green with it). */ -}}
{{- define "cart.fullname" -}}
{{ .Values.fullnameOverride | default .Release.Name }}
{{- end -}}
{{- define "cart.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "cart.stable" -}}
{{- if eq .Values.gantry.track "stable" }}true{{ end -}}
{{- end -}}
