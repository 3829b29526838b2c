// The one storage account: the Functions host and Durable task hub (queues, tables, blob leases) and the
// app's own containers (docs/contracts.md, "Blob layout"). Identity-only access: shared keys are switched off.

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
param name string

param location string
param tags object = {}

@description('Prepended to every container name, so several deployments can share one account.')
param containerPrefix string

@description('public: reachable from anywhere (with an Entra identity that has a data role); private: every network denied on the public endpoint, reached through the private endpoints of infra/app/network.bicep, and by trusted Azure services (Event Grid) with their own identities.')
@allowed(['public', 'private'])
param networkAccess string

@description('Days a deleted or overwritten blob, and a deleted container, can still be restored (soft delete); 0 turns soft delete off.')
@minValue(0)
@maxValue(365)
param softDeleteDays int

@description('Days after its last change that the lifecycle rule deletes a blob in work, uploads or inbox: a safety net behind the app\'s own retention, never the first line.')
@minValue(1)
param safetyNetDays int

@description('Storage queue that receives the inbox container\'s BlobCreated events from Event Grid (the app\'s inbox trigger reads it).')
param inboxQueueName string

// The container names of docs/contracts.md, "Blob layout"; the app reads the same prefix from ServerlessStyle__Storage__ContainerPrefix.
var containerNames = ['inbox', 'styles', 'uploads', 'results', 'work', 'models']

// What the app deletes by itself once a job has ended (JobRetention): its internal state, its uploads and its inbox
// drop. The lifecycle rule below only catches what that misses (a job whose orchestration died without ending, an
// upload for a request that never became a job, the state of a job recorded before job.json had an end time).
var safetyNetContainers = ['work', 'uploads', 'inbox']

var isPrivate = networkAccess == 'private'
// max() only satisfies the type checker (days is 1..365): the enabled branch is taken when softDeleteDays > 0 anyway.
var softDelete = softDeleteDays > 0 ? { enabled: true, days: max(softDeleteDays, 1) } : { enabled: false }

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    // Private: the public endpoint denies every network, and only trusted Azure services pass, each with its own
    // managed identity and a data role: Event Grid delivering the inbox's events with the system topic's system-assigned
    // identity is the one that needs it (a user-assigned identity cannot pass a firewall, and public network access
    // 'Disabled' would turn the trusted-service exception off). docs/deploy.md, "Private storage".
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: isPrivate ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
      ipRules: []
      virtualNetworkRules: []
    }
  }
}

// Soft delete for blobs (a deleted or overwritten blob) and for whole containers. Versioning stays off on purpose: the
// app writes a checkpoint per chunk and deletes the one two behind, and versions would keep every one of them until
// deleted by hand; soft delete keeps them only softDeleteDays (billed like live data meanwhile, docs/deploy.md).
resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: softDelete
    containerDeleteRetentionPolicy: softDelete
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = [
  for container in containerNames: {
    parent: blobService
    name: toLower('${containerPrefix}${container}')
    properties: { publicAccess: 'None' }
  }
]

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2024-01-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          // Keyed on a blob's last change, not on its job's end, so it must be longer than any job lives plus the app's
          // own retention: a pair's targets.bin is written once when the pair starts and read by every chunk after,
          // and the old 7-day rule on work/ deleted it under a job still running after a week.
          name: 'safety-net-job-inputs-and-state'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              // A prefix match starts with the container name: everything in those containers.
              prefixMatch: [for container in safetyNetContainers: toLower('${containerPrefix}${container}/')]
            }
            actions: {
              baseBlob: { delete: { daysAfterModificationGreaterThan: safetyNetDays } }
            }
          }
        }
      ]
    }
  }
  dependsOn: [containers]
}

// The inbox arrives through a queue: Event Grid's system topic for this account delivers each BlobCreated event under the
// inbox container to inboxQueueName, and the queue wakes the app (a KEDA rule) and starts the job (a queue trigger).
// Event Grid cannot call the app itself: a webhook cannot target a Container App's functions with our identity setup,
// and the polling blob trigger it replaces needed a replica running all the time.
resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2024-01-01' = {
  parent: account
  name: 'default'
}

// The Functions queue trigger moves a message it failed five times to '<queue>-poison'; created here so it can be watched
// (and counted) from the first deployment on.
resource inboxQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2024-01-01' = [
  for queue in [inboxQueueName, '${inboxQueueName}-poison']: {
    parent: queueService
    name: queue
  }
]

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: '${name}-events'
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// Storage Queue Data Message Sender on the inbox queue alone: all the topic's identity needs to deliver there.
var queueMessageSender = 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'

resource topicSendsToInbox 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: inboxQueues[0]
  name: guid(inboxQueues[0].id, systemTopic.id, queueMessageSender)
  properties: {
    principalId: systemTopic.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', queueMessageSender)
  }
}

resource inboxSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'inbox-blob-created'
  properties: {
    deliveryWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      destination: {
        endpointType: 'StorageQueue'
        properties: {
          resourceId: account.id
          queueName: inboxQueueName
          // -1: the message never expires in the queue; a drop waits for the app however long it sleeps.
          queueMessageTimeToLiveInSeconds: -1
        }
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      // The subject of a blob event is /blobServices/default/containers/{container}/blobs/{name}: the prefixed inbox.
      subjectBeginsWith: '/blobServices/default/containers/${toLower('${containerPrefix}inbox')}/blobs/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
  dependsOn: [topicSendsToInbox]
}

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
output eventGridSystemTopicName string = systemTopic.name
