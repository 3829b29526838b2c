// The Function app as a native Azure Functions app on Container Apps (Microsoft.App/containerApps, kind
// 'functionapp'), authenticated to storage, registry and telemetry by its user-assigned identity.

param name string
param location string
param tags object = {}

param environmentId string
@description('The environment\'s default domain; with the app name it gives the app\'s public https address.')
param environmentDefaultDomain string
@description('Workload profile name inside the environment: Consumption, or the GPU profile.')
param workloadProfileName string
param useGpu bool
@description('vCPUs per replica, as a decimal string (the profile sets the allowed sizes).')
param cpu string
@description('Memory per replica, for example 8Gi.')
param memory string

param identityId string
param identityClientId string
param registryLoginServer string

@description('Full image reference; empty deploys a public placeholder until `azd deploy` pushes the real image.')
param imageName string

param storageAccountName string
param blobEndpoint string
param queueEndpoint string
param tableEndpoint string
param containerPrefix string
@description('Durable task hub name; empty: host.json\'s (extensions.durableTask.hubName), the one the scale rules watch by default.')
param taskHubName string
param applicationInsightsName string

@allowed(['auto', 'vgg19', 'resnet18'])
param engineNetwork string

@description('Replicas that always run: 0 (the default of main.bicep) scales to zero when the queues are empty; 1 or more avoids cold starts.')
@minValue(0)
param minReplicas int
@minValue(1)
param maxReplicas int

@description('Days after a job ended that the app deletes its inputs, internal state and Durable history (0: never).')
@minValue(0)
param retentionInputDays int
@description('Days after a job ended that the app deletes its results, keeping job.json as a small record (0: never).')
@minValue(0)
param retentionResultDays int
@description('When the retention function runs: an NCRONTAB expression with seconds, in UTC, daily at a fixed time (\'S M H * * *\').')
param retentionSchedule string
@description('Minutes the retention cron rule keeps one replica up after the retention schedule (it starts it leadMinutes of infra/scale-rules.json, 5, before), so that the timer fires while the app is otherwise at zero.')
@minValue(5)
@maxValue(60)
param retentionWakeMinutes int

@description('Queue the Event Grid subscription fills with the inbox\'s BlobCreated events (storage.bicep).')
param inboxQueueName string

// The address Container Apps gives an app with external ingress. Known before the app exists, so the app can be told its
// own public URL: behind the ingress, which ends TLS, requests arrive as plain http and cannot tell the app its scheme.
var publicBaseUri = 'https://${name}.${environmentDefaultDomain}'

// The Durable task hub as host.json pins it: the hub name and its partition count (fixed for the hub's life) are the only
// inputs of the scale rules (infra/scale-rules.json). An app-setting override of the hub keeps the rules in step.
var hostDurable = loadJsonContent('../../host.json', '$.extensions.durableTask')
var hub = toLower(empty(taskHubName) ? hostDurable.hubName : taskHubName)
var partitionCount = hostDurable.storageProvider.partitionCount

// KEDA rules, written once in infra/scale-rules.json and expanded here: {hub} becomes the hub name and a rule marked
// forEachPartition becomes one rule per control queue, {partition} running 00..partitionCount-1. Custom azure-queue rules
// (not the azureQueue shorthand) because only they carry queueLengthStrategy and activationQueueLength: the work-item
// rule must count the invisible message of a chunk that is running, or KEDA scales in a replica mid-chunk. The inbox
// queue takes the container prefix like the containers, so that deployments sharing an account keep their drops apart.
var scaleRules = loadJsonContent('../scale-rules.json')
var queueRuleTemplates = [for rule in scaleRules.queues: (rule.?forEachPartition ?? false) ? map(range(0, partitionCount), p => padLeft(string(p), 2, '0')) : ['']]
var queueRules = flatten(map(range(0, length(scaleRules.queues)), i => map(queueRuleTemplates[i], partition => {
  name: replace(scaleRules.queues[i].name, '{partition}', partition)
  custom: {
    type: 'azure-queue'
    metadata: {
      accountName: storageAccountName
      queueName: toLower('${(scaleRules.queues[i].?containerPrefix ?? false) ? containerPrefix : ''}${replace(replace(scaleRules.queues[i].queue, '{hub}', hub), '{partition}', partition)}')
      queueLength: string(scaleRules.queues[i].queueLength)
      activationQueueLength: string(scaleRules.queues[i].activationQueueLength)
      queueLengthStrategy: scaleRules.queues[i].queueLengthStrategy
    }
    identity: identityId
  }
})))
// Container Apps' own HTTP scaling, spelled out: requests wake the app from zero and add replicas under load.
var httpRule = {
  name: scaleRules.http.name
  http: { metadata: { concurrentRequests: string(scaleRules.http.concurrentRequests) } }
}
// A timer trigger cannot fire at zero replicas. This cron window (scale-rules.json's retention entry) keeps one replica up
// from leadMinutes (5) before the retention schedule (a cold start, image pull included, takes minutes) to
// retentionWakeMinutes after it; the timer fires on time, or, on a replica that started late, at once as past due (its
// schedule monitor remembers the missed occurrence). KEDA's cron takes five fields: the schedule's seconds are dropped.
// docs/deploy.md, "Retention at zero".
var retentionFields = split(retentionSchedule, ' ')
var retentionMinuteOfDay = int(retentionFields[1]) + 60 * int(retentionFields[2])
var retentionStartMinute = (retentionMinuteOfDay + 1440 - scaleRules.retention.leadMinutes) % 1440
var retentionEndMinute = (retentionMinuteOfDay + retentionWakeMinutes) % 1440
var retentionRule = {
  name: scaleRules.retention.name
  custom: {
    type: 'cron'
    metadata: {
      timezone: scaleRules.retention.timezone
      start: '${retentionStartMinute % 60} ${retentionStartMinute / 60} * * *'
      end: '${retentionEndMinute % 60} ${retentionEndMinute / 60} * * *'
      desiredReplicas: string(scaleRules.retention.desiredReplicas)
    }
  }
}

var scaleRuleList = concat(queueRules, [httpRule, retentionRule])

// A public Functions image that starts without our settings, for the first provision before any push.
var placeholderImage = 'mcr.microsoft.com/azure-functions/dotnet8-quickstart-demo:1.0'

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The preview API: the first that takes template.scale.allowScalingRuleOverride for a functionapp (docs/deploy.md, "Scaling").
resource app 'Microsoft.App/containerApps@2026-03-02-preview' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'functions' })
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    managedEnvironmentId: environmentId
    workloadProfileName: workloadProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        // The Functions base image listens on port 80.
        targetPort: 80
        transport: 'auto'
        allowInsecure: false
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
      secrets: [
        {
          name: 'appinsights-connection-string'
          value: applicationInsights.properties.ConnectionString
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'functions'
          image: empty(imageName) ? placeholderImage : imageName
          resources: { cpu: json(cpu), memory: memory }
          env: [
            { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'dotnet-isolated' }
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', secretRef: 'appinsights-connection-string' }
            // Application Insights takes no key-authenticated telemetry (DisableLocalAuth): the host sends it with this
            // identity's Entra token; the identity holds Monitoring Metrics Publisher on the component (monitoring.bicep).
            { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identityClientId}' }
            // Host storage (and so the Durable task hub) through the identity: no connection string exists.
            { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
            { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
            { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
            { name: 'AzureWebJobsStorage__blobServiceUri', value: blobEndpoint }
            { name: 'AzureWebJobsStorage__queueServiceUri', value: queueEndpoint }
            { name: 'AzureWebJobsStorage__tableServiceUri', value: tableEndpoint }
            // host.json pins the hub; only a deployment that names another one overrides it (host.json settings take
            // AzureFunctionsJobHost__ app settings), and the scale rules above watch that same hub.
            { name: 'AzureFunctionsJobHost__extensions__durableTask__hubName', value: hub }
            // DefaultAzureCredential picks the user-assigned identity by this client id.
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            { name: 'ServerlessStyle__Storage__ServiceUri', value: blobEndpoint }
            { name: 'ServerlessStyle__Storage__ContainerPrefix', value: containerPrefix }
            // The inbox queue trigger binds to %INBOX_QUEUE%: the queue Event Grid fills with the inbox's BlobCreated events.
            { name: 'INBOX_QUEUE', value: inboxQueueName }
            { name: 'ServerlessStyle__Http__PublicBaseUri', value: publicBaseUri }
            // The host's request-body limit: twice the app's 188,874,752 bytes (HttpLimits.HostBodyBytes; a test checks
            // they agree), so a body a little over the app's limit reaches the app and gets its JSON 413. The host's
            // default, 104,857,600, answered valid uploads with an empty 500.
            { name: 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT', value: '377749504' }
            // cuda (not auto) on a GPU profile: a replica that cannot load CUDA fails loudly instead of
            // silently running on the CPU while the GPU is billed.
            { name: 'ServerlessStyle__Engine__Provider', value: useGpu ? 'cuda' : 'cpu' }
            { name: 'ServerlessStyle__Engine__Network', value: engineNetwork }
            // Retention keyed on each job's end (RetentionOptions); the Retention_Purge timer binds to %RETENTION_SCHEDULE%.
            { name: 'ServerlessStyle__Retention__InputDays', value: string(retentionInputDays) }
            { name: 'ServerlessStyle__Retention__ResultDays', value: string(retentionResultDays) }
            { name: 'RETENTION_SCHEDULE', value: retentionSchedule }
          ]
        }
      ]
      scale: {
        // 0 by default: the rules below wake the app. Serverless GPU replicas bill only while they run.
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        pollingInterval: scaleRules.pollingIntervalSeconds
        cooldownPeriod: scaleRules.cooldownPeriodSeconds
        // With the override, Container Apps generates no trigger-based rules for this functionapp and keeps these
        // (its generated Durable rules exist only for the MSSQL and Durable Task Scheduler backends, not this app's
        // Azure Storage one). The postprovision hook reads the setting back, since a later PUT has been seen to reset it.
        #disable-next-line BCP037 // allowScalingRuleOverride is in API 2026-03-02-preview but not yet in Bicep 0.49.2's type of Scale
        allowScalingRuleOverride: true
        rules: scaleRuleList
      }
    }
  }
}

output name string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
output url string = 'https://${app.properties.configuration.ingress.fqdn}'
// The rule names the postprovision hook expects to read back (scripts/check-scale.sh).
output scaleRuleNames array = map(scaleRuleList, rule => rule.name)
