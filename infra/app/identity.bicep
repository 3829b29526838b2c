// The app's user-assigned identity and its data-plane roles on the storage account. A user-assigned
// identity (not a system-assigned one) exists before the app, so its roles and the registry pull right are
// in place when the first revision starts.

param name string
param location string
param tags object = {}

@description('The storage account the identity works on.')
param storageAccountName string

@description('Object id of the person running azd (may be empty): gets Storage Blob Data Contributor so that `az storage blob upload --auth-mode login` works.')
param principalId string

@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string

// Built-in role definition ids (Azure RBAC built-in roles reference).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

// The roles the Functions docs list for an identity-based AzureWebJobsStorage: Blob Data Owner (not Contributor) for
// the host's leases and secrets; queues and tables for the Durable task hub. Queue Data Contributor also covers the inbox
// queue trigger and the KEDA azure-queue rules, which read queue lengths with this identity. Storage Account Contributor,
// which the polling blob trigger needed, is gone with it (docs/deploy.md, "The inbox").
var appRoles = [storageBlobDataOwner, storageQueueDataContributor, storageTableDataContributor]

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource appRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in appRoles: {
    scope: account
    name: guid(account.id, identity.id, role)
    properties: {
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

resource userBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  scope: account
  name: guid(account.id, principalId, storageBlobDataContributor)
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
  }
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
