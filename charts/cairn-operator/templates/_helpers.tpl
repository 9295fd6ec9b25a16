{{/* The chart's name, or nameOverride. */}}
{{- define "cairn-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of the release's objects: fullnameOverride, else the release name when it already contains the
chart's name (`helm install cairn-operator …` gives `cairn-operator`, not `cairn-operator-cairn-operator`),
else <release>-<chart>. Cluster-scoped objects (ClusterRole, ClusterRoleBinding) carry it too, so two
releases in one cluster need two names.
*/}}
{{- define "cairn-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cairn-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selects the operator's pods (Deployment, metrics Service). */}}
{{- define "cairn-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cairn-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cairn-operator.labels" -}}
helm.sh/chart: {{ include "cairn-operator.chart" . }}
{{ include "cairn-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "cairn-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cairn-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The leader-election Lease (in the release's namespace); the Role grants get/update on it alone. */}}
{{- define "cairn-operator.leaseName" -}}
{{- default (include "cairn-operator.fullname" .) .Values.leaderElection.id }}
{{- end }}

{{- define "cairn-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
