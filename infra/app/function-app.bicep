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
param taskHubName string
param applicationInsightsName string

@allowed(['auto', 'vgg19', 'resnet18'])
param engineNetwork string

@minValue(1)
param minReplicas int
@minValue(1)
param maxReplicas int

@description('Days after a job ended that the app deletes its inputs, internal state and Durable history (0: never).')
@minValue(0)
param retentionInputDays int
@description('Days after a job ended that the app deletes its results, keeping job.json as a small record (0: never).')
@minValue(0)
param retentionResultDays int
@description('When the retention function runs: an NCRONTAB expression with seconds, in UTC.')
param retentionSchedule string

// The address Container Apps gives an app with external ingress. Known before the app exists, so the app can be told its
// own public URL: behind the ingress, which ends TLS, requests arrive as plain http and cannot tell the app its scheme.
var publicBaseUri = 'https://${name}.${environmentDefaultDomain}'

// A public Functions image that starts without our settings, for the first provision before any push.
var placeholderImage = 'mcr.microsoft.com/azure-functions/dotnet8-quickstart-demo:1.0'

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource app 'Microsoft.App/containerApps@2025-07-01' = {
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
            { name: 'TASKHUB_NAME', value: taskHubName }
            // DefaultAzureCredential picks the user-assigned identity by this client id.
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            { name: 'ServerlessStyle__Storage__ServiceUri', value: blobEndpoint }
            { name: 'ServerlessStyle__Storage__ContainerPrefix', value: containerPrefix }
            // The inbox blob trigger binds to %INBOX_CONTAINER%: the inbox container of DESIGN.md section 3, prefixed.
            { name: 'INBOX_CONTAINER', value: toLower('${containerPrefix}inbox') }
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
        // At least one replica, always: Functions on Container Apps scales Durable Functions only with the
        // MSSQL or Durable Task Scheduler backends, so with the Azure Storage backend nothing would wake a
        // replica from zero to run queued orchestrations and activities. The same holds for the polling blob
        // trigger of the inbox (only its Event Grid source scales); it runs on the replica that is always there.
        minReplicas: minReplicas
        maxReplicas: maxReplicas
      }
    }
  }
}

output name string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
output url string = 'https://${app.properties.configuration.ingress.fqdn}'
