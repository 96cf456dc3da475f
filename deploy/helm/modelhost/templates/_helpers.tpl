{{/* Names and labels shared by every template. */}}

{{- define "modelhost.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* RELEASE-modelhost, or RELEASE alone when it already holds the chart's name; at most 63 characters. */}}
{{- define "modelhost.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "modelhost.selectorLabels" -}}
app.kubernetes.io/name: {{ include "modelhost.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "modelhost.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "modelhost.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The chart's own Secret (admin token, registry URL, S3 keys). */}}
{{- define "modelhost.secretName" -}}
{{- include "modelhost.fullname" . -}}
{{- end -}}

{{/* True (non-empty) when the chart's Secret has anything to hold. */}}
{{- define "modelhost.ownSecret" -}}
{{- if or (and .Values.adminToken.value (not .Values.adminToken.existingSecret)) (and .Values.registry.postgresql.enabled .Values.registry.postgresql.url (not .Values.registry.postgresql.existingSecret)) (and .Values.s3.enabled .Values.s3.accessKeyId (not .Values.s3.existingSecret)) -}}
true
{{- end -}}
{{- end -}}

{{- define "modelhost.adminTokenSecret" -}}
{{- .Values.adminToken.existingSecret | default (include "modelhost.secretName" .) -}}
{{- end -}}

{{/* Refuses values that cannot work. */}}
{{- define "modelhost.validate" -}}
{{- if and (not .Values.registry.postgresql.enabled) (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) -}}
{{- fail "More than one replica (replicaCount > 1 or autoscaling.enabled) needs registry.postgresql.enabled: replicas with their own SQLite registries would not agree on what serves." -}}
{{- end -}}
{{- if and .Values.registry.postgresql.enabled (not .Values.registry.postgresql.url) (not .Values.registry.postgresql.existingSecret) -}}
{{- fail "registry.postgresql.enabled needs registry.postgresql.url or registry.postgresql.existingSecret." -}}
{{- end -}}
{{- if and .Values.s3.enabled .Values.s3.accessKeyId (not .Values.s3.secretAccessKey) -}}
{{- fail "s3.accessKeyId is set without s3.secretAccessKey." -}}
{{- end -}}
{{- if and .Values.adminToken.require (not .Values.adminToken.value) (not .Values.adminToken.existingSecret) -}}
{{- fail "adminToken.require needs adminToken.value or adminToken.existingSecret." -}}
{{- end -}}
{{- if and .Values.data.existingClaim (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) -}}
{{- fail "data.existingClaim is for one replica (the Recreate strategy); with several, keep the registry in PostgreSQL and models on S3." -}}
{{- end -}}
{{- end -}}
