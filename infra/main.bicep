// ServerlessStyle on Azure: storage, identity, monitoring, registry, a Container Apps environment (optionally
// with a serverless GPU) and the Functions app running the Durable style-transfer pipeline. azd-style: one
// resource group per azd environment, names derived from a token so that re-provisioning is idempotent.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region of every resource; for a GPU profile, one with serverless GPUs of that type.')
param location string

@description('Object id of the person (or pipeline) running azd; gets blob data access to upload styles and photos. Empty: none.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

@description('Serverless GPU for the Function app: T4, A100, or none (CPU-only Consumption profile). Changing it on a deployment moves the app to another workload profile: let running jobs finish first (docs/deploy.md, "Changing gpuProfile").')
@allowed(['T4', 'A100', 'none'])
param gpuProfile string = 'T4'

@description('Prepended to every container name and to the inbox queue, so several deployments can share one account: lowercase letters, digits and hyphens.')
@maxLength(44) // queue names have at most 63 characters; the longest name it prefixes is 'inbox-events-poison'
param containerPrefix string = ''

@description('public: the storage account takes requests from any network (each still needs an Entra identity with a data role); private: a virtual network with private endpoints for blob, queue and table, the Container Apps environment on it, and the account\'s public endpoint denying every network but trusted Azure services, which Event Grid\'s inbox delivery needs (docs/deploy.md, "Private storage"). Cannot be switched on an existing environment: the environment\'s network is fixed when it is created.')
@allowed(['public', 'private'])
param storageNetworkAccess string = 'public'

@description('Address space of the virtual network that storageNetworkAccess = private creates (a /16 to a /22; the environment takes its first /23). Pick one that does not overlap networks you will peer it with.')
param virtualNetworkAddressPrefix string = '10.40.0.0/16'

@description('Days a deleted or overwritten blob, or a deleted container, can be restored (blob and container soft delete); 0 turns soft delete off.')
@minValue(0)
@maxValue(365)
param blobSoftDeleteDays int = 7

@description('Days after a job ended that the app deletes its uploads, inbox drop, internal state and Durable history (0: never).')
@minValue(0)
param retentionInputDays int = 7

@description('Days after a job ended that the app deletes its results (images, loss logs), keeping job.json as a small record of what ran (0: never).')
@minValue(0)
param retentionResultDays int = 30

@description('When the app\'s retention function runs: NCRONTAB with seconds, UTC, daily at a fixed time \'S M H * * *\' with numbers for M and H (default: daily at 03:30). A KEDA cron rule wakes one replica then.')
param retentionSchedule string = '0 30 3 * * *'

@description('Minutes one replica is kept up from the retention schedule on, so that the retention timer runs while the app is otherwise at zero.')
@minValue(5)
@maxValue(60)
param retentionWakeMinutes int = 10

@description('Safety net behind the app\'s retention: a blob in work, uploads or inbox is deleted this many days plus retentionInputDays after its last change. Must exceed the longest a job runs, from its upload to its end.')
@minValue(30)
param storageSafetyNetDays int = 60

@description('Loss network the engine uses: auto (vgg19 when models/ holds one, else resnet18), vgg19 or resnet18.')
@allowed(['auto', 'vgg19', 'resnet18'])
param engineNetwork string = 'auto'

@description('Durable Functions task hub name (letters and digits); empty: the one host.json pins. Deployments that share one storage account need one each.')
param taskHubName string = ''

@description('Image of the Function app; azd sets it after the first deploy (SERVICE_FUNCTIONS_IMAGE_NAME).')
param functionsImageName string = ''

@description('Replicas that always run: 0 scales to zero when the task hub\'s and the inbox\'s queues are empty (cold starts); 1 keeps a replica warm, billed around the clock.')
@minValue(0)
param minReplicas int = 0

@description('Most replicas; each runs one chunk at a time (host.json maxConcurrentActivityFunctions), so this bounds the pairs of a job that run at once.')
@minValue(1)
param maxReplicas int = 8

var tags = { 'azd-env-name': environmentName }
// The inbox's queue, named in infra/scale-rules.json and prefixed like the containers.
var inboxQueueName = toLower('${containerPrefix}${filter(loadJsonContent('scale-rules.json').queues, rule => rule.name == 'inbox')[0].queue}')
var token = toLower(uniqueString(subscription().id, environmentName, location))

// Replica size per workload profile: serverless GPU replicas take the GPU's share of the node; the CPU
// Consumption profile allows at most 4 vCPU / 8 GiB.
var replicaSizes = {
  T4: { cpu: '8.0', memory: '56Gi' }
  A100: { cpu: '24.0', memory: '220Gi' }
  none: { cpu: '4.0', memory: '8Gi' }
}

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: group
  params: {
    name: 'st${token}'
    location: location
    tags: tags
    containerPrefix: containerPrefix
    networkAccess: storageNetworkAccess
    softDeleteDays: blobSoftDeleteDays
    // Always past the app's own deadline: the safety net is the allowance for the job's own life on top of it.
    safetyNetDays: storageSafetyNetDays + retentionInputDays
    inboxQueueName: inboxQueueName
  }
}

module network 'app/network.bicep' = if (storageNetworkAccess == 'private') {
  name: 'network'
  scope: group
  params: {
    name: 'vnet-${token}'
    location: location
    tags: tags
    addressPrefix: virtualNetworkAddressPrefix
    storageAccountName: storage.outputs.name
  }
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: group
  params: {
    name: 'id-${token}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    principalId: principalId
    principalType: principalType
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: group
  params: {
    logAnalyticsName: 'log-${token}'
    applicationInsightsName: 'appi-${token}'
    location: location
    tags: tags
    publisherPrincipalId: identity.outputs.principalId
  }
}

module registry 'app/registry.bicep' = {
  name: 'registry'
  scope: group
  params: {
    name: 'cr${token}'
    location: location
    tags: tags
    pullPrincipalId: identity.outputs.principalId
  }
}

module environment 'app/environment.bicep' = {
  name: 'environment'
  scope: group
  params: {
    name: 'cae-${token}'
    location: location
    tags: tags
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    gpuProfile: gpuProfile
    infrastructureSubnetId: storageNetworkAccess == 'private' ? network!.outputs.infrastructureSubnetId : ''
  }
}

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: group
  params: {
    name: 'func-${token}'
    location: location
    tags: tags
    environmentId: environment.outputs.id
    environmentDefaultDomain: environment.outputs.defaultDomain
    workloadProfileName: environment.outputs.appWorkloadProfileName
    useGpu: gpuProfile != 'none'
    cpu: replicaSizes[gpuProfile].cpu
    memory: replicaSizes[gpuProfile].memory
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    registryLoginServer: registry.outputs.loginServer
    imageName: functionsImageName
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    containerPrefix: containerPrefix
    taskHubName: taskHubName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    engineNetwork: engineNetwork
    minReplicas: minReplicas
    maxReplicas: maxReplicas
    retentionInputDays: retentionInputDays
    retentionResultDays: retentionResultDays
    retentionSchedule: retentionSchedule
    retentionWakeMinutes: retentionWakeMinutes
    inboxQueueName: inboxQueueName
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_ENVIRONMENT_NAME string = environment.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.url
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output SERVERLESS_STYLE_CONTAINER_PREFIX string = containerPrefix
// Read by the postprovision hook: a private account cannot be reached from the deployer's machine.
output SERVERLESS_STYLE_STORAGE_NETWORK_ACCESS string = storageNetworkAccess
// Read by the postprovision hook (scripts/check-scale.sh), which checks the app's scale settings took effect.
output SERVERLESS_STYLE_MIN_REPLICAS int = minReplicas
output SERVERLESS_STYLE_MAX_REPLICAS int = maxReplicas
output SERVERLESS_STYLE_INBOX_QUEUE string = inboxQueueName
output SERVERLESS_STYLE_SCALE_RULES string = join(functionApp.outputs.scaleRuleNames, ' ')
