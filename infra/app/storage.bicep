// The one storage account: the Functions host and Durable task hub (queues, tables, blob leases) and the
// app's own containers of DESIGN.md section 3. Identity-only access: shared keys are switched off.

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
param name string

param location string
param tags object = {}

@description('Prepended to every container name, so several deployments can share one account.')
param containerPrefix string

@description('Blobs in the work container (targets and optimiser checkpoints) are deleted this many days after their last change.')
@minValue(1)
param workRetentionDays int

// The names of DESIGN.md section 3; the app reads the same prefix from ServerlessStyle__Storage__ContainerPrefix.
var containerNames = ['inbox', 'styles', 'uploads', 'results', 'work', 'models']

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
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: account
  name: 'default'
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
          name: 'delete-work-state'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              // A prefix match starts with the container name: everything in the work container.
              prefixMatch: [toLower('${containerPrefix}work/')]
            }
            actions: {
              baseBlob: { delete: { daysAfterModificationGreaterThan: workRetentionDays } }
            }
          }
        }
      ]
    }
  }
  dependsOn: [containers]
}

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
