// The one storage account: the Functions host and Durable task hub (queues, tables, blob leases) and the
// app's own containers of DESIGN.md section 3. Identity-only access: shared keys are switched off.

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
param name string

param location string
param tags object = {}

@description('Prepended to every container name, so several deployments can share one account.')
param containerPrefix string

@description('public: reachable from anywhere (with an Entra identity that has a data role); private: public network access off, reached only through the private endpoints of infra/app/network.bicep.')
@allowed(['public', 'private'])
param networkAccess string

@description('Days a deleted or overwritten blob, and a deleted container, can still be restored (soft delete); 0 turns soft delete off.')
@minValue(0)
@maxValue(365)
param softDeleteDays int

@description('Days after its last change that the lifecycle rule deletes a blob in work, uploads or inbox: a safety net behind the app\'s own retention, never the first line.')
@minValue(1)
param safetyNetDays int

// The names of DESIGN.md section 3; the app reads the same prefix from ServerlessStyle__Storage__ContainerPrefix.
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
    // Private: no public endpoint at all, and a rule set that denies by default should public access ever be switched
    // back on by hand; no trusted-service bypass, since nothing here needs one.
    publicNetworkAccess: isPrivate ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: isPrivate ? 'Deny' : 'Allow'
      bypass: isPrivate ? 'None' : 'AzureServices'
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

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
