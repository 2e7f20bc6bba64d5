{{/* The delivery process (apps/delivery): names, labels and its config file. */}}
{{- define "tributary-hub.delivery.name" -}}tributary-delivery{{- end -}}

{{- define "tributary-hub.delivery.fullname" -}}
{{- printf "%s-delivery" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tributary-hub.delivery.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tributary-hub.delivery.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tributary-hub.delivery.labels" -}}
{{ include "tributary-hub.delivery.selectorLabels" . }}
{{ include "tributary-hub.commonLabels" . }}
{{- end -}}

{{- define "tributary-hub.delivery.image" -}}
{{- printf "%s:%s" .Values.delivery.image.repository (default .Chart.AppVersion .Values.delivery.image.tag) -}}
{{- end -}}

{{- define "tributary-hub.delivery.secretsDir" -}}/var/run/tributary/destinations{{- end -}}

{{/*
apps/delivery's config file (apps/delivery/src/config.ts). Its NATS user cannot manage streams
(the provisioning Job creates them), the admin token and the signing secrets come from Secrets.
*/}}
{{- define "tributary-hub.delivery.config" -}}
{{- $d := .Values.delivery -}}
{{- $destinations := .Values.global.tributary.delivery.destinations -}}
{{- range $i, $dest := $destinations -}}
{{- $url := urlParse $dest.url -}}
{{- if $url.userinfo -}}
{{- fail (printf "global.tributary.delivery.destinations[%d] (%s): the url carries a user or password, which would sit in this chart's ConfigMap (and the delivery process does not send it): put the credential in secretHeaders (e.g. authorization: {file: %s/<key>})" $i $dest.name (include "tributary-hub.delivery.secretsDir" $)) -}}
{{- end -}}
{{- if regexMatch "(?i)(^|[&;])([a-z0-9]*[_.-])?(token|secret|password|passwd|pwd|key|apikey|signature|sig|auth|credentials?)=" $url.query -}}
{{- fail (printf "global.tributary.delivery.destinations[%d] (%s): the url's query looks like it carries a credential, which would sit in this chart's ConfigMap: send it as a header from secretHeaders instead" $i $dest.name) -}}
{{- end -}}
{{- range $header, $_ := ($dest.headers | default dict) -}}
{{- if regexMatch "(?i)(auth|token|secret|passw|api-?key|access-?key|cookie|session|signature|credential)" $header -}}
{{- fail (printf "global.tributary.delivery.destinations[%d] (%s): headers.%s looks like a credential: move it to secretHeaders (%s: {file: %s/<key>}) so it comes from the signing Secret, not this chart's ConfigMap" $i $dest.name $header $header (include "tributary-hub.delivery.secretsDir" $)) -}}
{{- end -}}
{{- end -}}
{{- range (concat (($dest.signing | default dict).secrets | default list) (values ($dest.secretHeaders | default dict))) -}}
{{- if and .file (not $.Values.delivery.signingSecrets.existingSecret) -}}
{{- fail (printf "global.tributary.delivery.destinations[%d] (%s) reads a secret (signing key or secretHeaders value) from %s: set delivery.signingSecrets.existingSecret to the Secret mounted at %s" $i $dest.name .file (include "tributary-hub.delivery.secretsDir" $)) -}}
{{- end -}}
{{- if and .file (not (hasPrefix (printf "%s/" (include "tributary-hub.delivery.secretsDir" $)) .file)) -}}
{{- fail (printf "global.tributary.delivery.destinations[%d] (%s) reads a secret from %s, outside the mounted signing Secret: use %s/<key of delivery.signingSecrets.existingSecret>" $i $dest.name .file (include "tributary-hub.delivery.secretsDir" $)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $config := dict
  "host" "0.0.0.0"
  "port" (int $d.port)
  "logLevel" $d.logLevel
  "nats" (dict "servers" (include "tributary-hub.natsUrls" . | fromJsonArray) "user" "delivery")
  "manageStreams" false
  "ackWaitMs" (int $d.ackWaitMs)
  "adminToken" (dict "env" "TRIBUTARY_DELIVERY_ADMIN_TOKEN")
  "destinations" $destinations
-}}
{{- if (include "tributary-hub.controlEnabled" .) -}}
{{- /* The control bucket's subscriptions too, watched; their non-public addresses allowed. */ -}}
{{- $_ := set $config "control" (dict "enabled" true) -}}
{{- $_ := set $config "allowPrivate" .Values.control.allowPrivate -}}
{{- end -}}
{{- toPrettyJson $config -}}
{{- end -}}

{{/*
Every port the destinations' URLs name (443 for https, 80 for http unless given), and with control
the subscriptions' ports (control.subscriptionPorts), once each.
*/}}
{{- define "tributary-hub.delivery.destinationPorts" -}}
{{- $ports := list -}}
{{- if (include "tributary-hub.controlEnabled" .) -}}
{{- range .Values.control.subscriptionPorts -}}
{{- $ports = append $ports (toString .) -}}
{{- end -}}
{{- end -}}
{{- range .Values.global.tributary.delivery.destinations -}}
{{- $url := urlParse .url -}}
{{- $port := ternary "443" "80" (eq $url.scheme "https") -}}
{{- if regexMatch ":[0-9]+$" $url.host -}}
{{- $port = regexFind "[0-9]+$" $url.host -}}
{{- end -}}
{{- $ports = append $ports $port -}}
{{- end -}}
{{- $ports | uniq | sortAlpha | toJson -}}
{{- end -}}

{{/*
The long-running workloads, by the prefix of their name/label helpers: the aggregator, and the
delivery process when enabled. Objects every workload gets alike (PDB, ServiceMonitor) range over it.
*/}}
{{- define "tributary-hub.workloads" -}}
{{- $workloads := list "tributary-hub" -}}
{{- if .Values.global.tributary.delivery.enabled -}}
{{- $workloads = append $workloads "tributary-hub.delivery" -}}
{{- end -}}
{{- toJson $workloads -}}
{{- end -}}

{{/*
A destination's consumer filters as provision.mjs applies them to an existing consumer (and
creates none): deliveryConsumerConfig's filter_subject or filter_subjects (packages/streams).
*/}}
{{- define "tributary-hub.deliveryFilterUpdate" -}}
{{- $filters := include "tributary.deliveryFilterSubjects" . | fromJsonArray -}}
{{- $config := dict "durable_name" (printf "delivery-%s" .name) -}}
{{- if eq (len $filters) 1 -}}
{{- $_ := set $config "filter_subject" (first $filters) -}}
{{- else -}}
{{- $_ := set $config "filter_subjects" $filters -}}
{{- end -}}
{{- toPrettyJson (dict "stream_name" "EVENTS_ENRICHED" "config" $config "update" (list "filter_subject" "filter_subjects") "create" false) -}}
{{- end -}}
